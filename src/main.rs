fn main() {
    println!("tulu");
}
