//! Process-wide settings under which candle's CPU backend trains fast on few cores. They are
//! process state (an environment variable read once by candle, the C allocator's thresholds), so
//! the program calls [`configure_cpu_runtime`] once at startup rather than the model setting
//! them behind its users' backs.
//!
//! Measured on the project's 2-core machine, tiny model training step (docs/model.md):
//!
//! - **`CANDLE_NUM_THREADS=1`.** candle 0.11 runs large elementwise ops on its own thread pool,
//!   whose workers spin for ~25k iterations after every op before sleeping. On a 2-core machine
//!   the spinning worker takes a core from the GEMM and kernel threads (rayon) and the main
//!   thread spins waiting for it: a training step took ~3× the CPU time. With one thread the
//!   elementwise ops run inline (they are memory-bound); GEMMs and the fused kernels still use
//!   all cores through rayon (`RAYON_NUM_THREADS`).
//! - **Allocator thresholds (glibc).** Every op allocates its output; with glibc's defaults large
//!   buffers are mapped and unmapped each time and every page faults on first touch (~10% of a
//!   step). Raising the mmap and trim thresholds keeps freed buffers in the heap for reuse.
//!   The cost: up to 1 GiB of freed memory stays with the process.

/// Applies the settings above; an explicit `CANDLE_NUM_THREADS` from the environment wins.
///
/// # Safety
/// Sets an environment variable, which is only sound while no other thread can read the
/// environment: call it first thing in `main`, before any thread is spawned.
pub unsafe fn configure_cpu_runtime() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MIB: libc::c_int = 1024 * 1024;
        // Return values are ignored: a refused setting leaves glibc's default, which is correct,
        // only slower.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * MIB);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * MIB);
        libc::mallopt(libc::M_TOP_PAD, 64 * MIB);
    }
}
