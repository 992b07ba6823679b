//! The `tulu` command line: parse arguments, call the library, render errors.

use std::collections::{BTreeSet, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use tulu::cache::{Cache, Hash, LockPolicy};
use tulu::check::{check_file, CheckFailure, Plan};
use tulu::engine::{
    self, lock_path, Lockfile, ProgressMode, RunOptions, RunProgress, Session, Status,
};
use tulu::ops::registry;

#[derive(Parser)]
#[command(
    name = "tulu",
    version,
    about = "A checked, incremental, reproducible dataflow engine for LLM post-training"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a recipe: execute what changed, serve the rest from the cache, write RECIPE.lock.
    Run(RunArgs),
    /// Show which nodes are cached and which would run, and why.
    Plan(PlanArgs),
    /// Check a recipe (imports, names, types, op params) without running anything.
    Check(CheckArgs),
    /// Format recipes in the canonical style.
    Fmt(FmtArgs),
    /// Print the recipe's graph as Graphviz DOT or Mermaid.
    Graph(GraphArgs),
    /// Print a node's artifact: dataset rows as JSONL, or a summary.
    Cat(CatArgs),
    /// Remove cached artifacts that no lockfile and none of the last runs reference.
    Gc(GcArgs),
    /// List the built-in ops and constructors with their params.
    Ops(OpsArgs),
}

#[derive(Args, Clone)]
struct RecipeArgs {
    /// The recipe file.
    recipe: PathBuf,
    /// Override a param: `--set seed=8` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
}

#[derive(Args, Clone)]
struct CacheArgs {
    /// The cache directory (default: `.tulu/` beside the recipe).
    #[arg(long, env = "TULU_CACHE", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Fail at once if another tulu holds the cache, instead of waiting for it.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    recipe: RecipeArgs,
    #[command(flatten)]
    cache: CacheArgs,
    /// Run only these nodes (and what they need).
    targets: Vec<String>,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Refuse to run when the plan differs from RECIPE.lock, and fail a node whose output differs.
    #[arg(long)]
    locked: bool,
    /// How many nodes may run at once (default: the number of CPUs).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// No progress output.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
struct PlanArgs {
    #[command(flatten)]
    recipe: RecipeArgs,
    #[command(flatten)]
    cache: CacheArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    recipe: RecipeArgs,
}

#[derive(Args)]
struct FmtArgs {
    /// Recipe files to format in place.
    files: Vec<PathBuf>,
    /// Change nothing; exit 1 if a file is not formatted.
    #[arg(long)]
    check: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args)]
struct GraphArgs {
    #[command(flatten)]
    recipe: RecipeArgs,
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
}

#[derive(Args)]
struct CatArgs {
    #[command(flatten)]
    recipe: RecipeArgs,
    #[command(flatten)]
    cache: CacheArgs,
    /// The node (binding name, e.g. `sft_data` or `eval.gsm8k_test`).
    node: String,
    /// A summary instead of the rows: schema, counts per source, what the op recorded.
    #[arg(long)]
    summary: bool,
    /// A data card (Markdown): sources, licenses, rows per source, and every upstream step
    /// (dedup, decontam, filter, sample, mix, …) with the rows it removed.
    #[arg(long, conflicts_with_all = ["summary", "limit", "provenance"])]
    card: bool,
    /// Print at most this many rows.
    #[arg(long)]
    limit: Option<usize>,
    /// Add each row's provenance (`_provenance`: source, index, license).
    #[arg(long)]
    provenance: bool,
}

#[derive(Args)]
struct GcArgs {
    /// A recipe, to find its cache (`.tulu/` beside it); or use --cache-dir.
    recipe: Option<PathBuf>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Keep the outputs of this many most recent runs.
    #[arg(long, default_value_t = 5)]
    keep_runs: usize,
    /// List what would be removed, remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct OpsArgs {
    /// Show one op or constructor.
    name: Option<String>,
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any thread exists.
    unsafe { tulu::model::cpu_runtime::configure_cpu_runtime() };
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Plan(args) => cmd_plan(args),
        Command::Check(args) => cmd_check(args),
        Command::Fmt(args) => cmd_fmt(args),
        Command::Graph(args) => cmd_graph(args),
        Command::Cat(args) => cmd_cat(args),
        Command::Gc(args) => cmd_gc(args),
        Command::Ops(args) => cmd_ops(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            match render_check_error(&e) {
                Some(rendered) => eprint!("{rendered}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>> {
    sets.iter()
        .map(|s| {
            let (name, value) = s
                .split_once('=')
                .ok_or_else(|| anyhow!("`--set {s}`: write `--set name=value`"))?;
            let name = name.trim();
            if name.is_empty() {
                bail!("`--set {s}`: the param name is empty");
            }
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

fn check(recipe: &RecipeArgs) -> Result<Plan> {
    let overrides = parse_sets(&recipe.set)?;
    check_file(&recipe.recipe, &overrides, registry())
        .map_err(|f| anyhow::Error::new(CheckFailureBox(f)))
}

/// Wraps a check failure so it can travel as an `anyhow::Error` and be rendered at the top.
struct CheckFailureBox(CheckFailure);

impl std::fmt::Debug for CheckFailureBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.render(false))
    }
}

impl std::fmt::Display for CheckFailureBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.render(false))
    }
}

impl std::error::Error for CheckFailureBox {}

fn render_check_error(e: &anyhow::Error) -> Option<String> {
    e.downcast_ref::<CheckFailureBox>().map(|b| {
        let n = b.0.error_count();
        format!(
            "{}error: the recipe has {n} problem{}; nothing was run\n",
            b.0.render(std::io::stderr().is_terminal()),
            if n == 1 { "" } else { "s" }
        )
    })
}

fn cache_dir_for(recipe: Option<&Path>, args: &CacheArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.cache_dir {
        return Ok(dir.clone());
    }
    let recipe = recipe.ok_or_else(|| anyhow!("name a recipe or pass --cache-dir"))?;
    let dir = recipe
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(dir.join(".tulu"))
}

fn open_cache(dir: &Path, args: &CacheArgs) -> Result<Cache> {
    let policy = if args.no_wait {
        LockPolicy::NoWait
    } else {
        LockPolicy::Wait
    };
    Cache::open_with(dir, policy, |holder| {
        eprintln!("{}", tulu::cache::waiting_message(dir, holder));
    })
    .map_err(anyhow::Error::new)
}

fn cmd_run(args: RunArgs) -> Result<ExitCode> {
    let plan = check(&args.recipe)?;
    let cache_dir = cache_dir_for(Some(&args.recipe.recipe), &args.cache)?;
    let cache = open_cache(&cache_dir, &args.cache)?;
    let lock_file = lock_path(&plan.recipe_path);
    let lock = Lockfile::read(&lock_file)?;
    if args.locked && lock.is_none() {
        bail!(
            "--locked: there is no {}; run once without --locked to create it",
            lock_file.display()
        );
    }
    let session = Session::new(&plan, &cache, lock.as_ref())?;
    if args.locked {
        let problems = engine::lock_differences(&session, lock.as_ref().expect("checked above"));
        if !problems.is_empty() {
            let mut msg = format!("--locked: the plan differs from {}:\n", lock_file.display());
            for p in &problems {
                msg.push_str(&format!("  - {p}\n"));
            }
            msg.push_str("Run without --locked to accept the changes and update the lockfile.");
            bail!(msg);
        }
    }
    let targets = resolve_targets(&plan, &args.targets)?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        let _ = ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupted: stopping running nodes (press Ctrl-C again to quit at once)");
        });
    }
    let mode = if args.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::detect()
    };
    let progress = RunProgress::new(mode, plan.nodes.len());
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = Instant::now();
    let report = engine::run(
        &session,
        &progress,
        &RunOptions {
            jobs,
            targets,
            locked: if args.locked { lock.as_ref() } else { None },
            cancel: &cancel,
        },
    )?;
    let all_done = report.nodes.len() == plan.nodes.len()
        && report
            .nodes
            .iter()
            .all(|n| matches!(n.status, Status::Ran | Status::Cached));
    if all_done {
        engine::lockfile_for(&session, &report).write(&lock_file)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    }
    if !args.quiet || report.count(Status::Failed) > 0 {
        eprintln!("{}", report.summary(Some(started.elapsed())));
    }
    let failed = report.count(Status::Failed) > 0 || cancel.load(Ordering::Relaxed);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn resolve_targets(plan: &Plan, names: &[String]) -> Result<Option<BTreeSet<tulu::check::NodeId>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut ids = BTreeSet::new();
    for name in names {
        let node = plan.find(name).ok_or_else(|| unknown_node(plan, name))?;
        ids.insert(node.id);
    }
    Ok(Some(ids))
}

fn unknown_node(plan: &Plan, name: &str) -> anyhow::Error {
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
    match tulu::check::suggest::closest(name, names.iter().copied()) {
        Some(close) => anyhow!("the recipe has no node `{name}`; did you mean `{close}`?"),
        None => anyhow!(
            "the recipe has no node `{name}`; its nodes are: {}",
            names.join(", ")
        ),
    }
}

fn cmd_plan(args: PlanArgs) -> Result<ExitCode> {
    let plan = check(&args.recipe)?;
    let cache_dir = cache_dir_for(Some(&args.recipe.recipe), &args.cache)?;
    let cache = open_cache(&cache_dir, &args.cache)?;
    let lock = Lockfile::read(&lock_path(&plan.recipe_path))?;
    let session = Session::new(&plan, &cache, lock.as_ref())?;
    let report = engine::plan_status(&session)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        for node in &report.nodes {
            println!("{}", node.line());
        }
        println!("{}", report.summary(None));
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_check(args: CheckArgs) -> Result<ExitCode> {
    let plan = check(&args.recipe)?;
    let sources = plan.nodes.iter().filter(|n| n.op == "load").count();
    println!(
        "ok: {} nodes ({} loading data), {} warnings",
        plan.nodes.len(),
        sources,
        plan.warnings.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn cmd_fmt(args: FmtArgs) -> Result<ExitCode> {
    if args.files.is_empty() {
        bail!("name the recipe files to format");
    }
    let mut unformatted = Vec::new();
    let mut failed = false;
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        match tulu::syntax::format::format_source(&text) {
            Ok(formatted) => {
                if formatted != text {
                    if args.check {
                        unformatted.push(file.display().to_string());
                    } else {
                        std::fs::write(file, formatted)
                            .with_context(|| format!("cannot write {}", file.display()))?;
                        eprintln!("formatted {}", file.display());
                    }
                }
            }
            Err(diag) => {
                let mut sources = tulu::syntax::SourceMap::new();
                sources.add(file.display().to_string(), text);
                eprint!(
                    "{}",
                    tulu::syntax::diagnostic::render_all(
                        &[diag],
                        &sources,
                        std::io::stderr().is_terminal()
                    )
                );
                failed = true;
            }
        }
    }
    for f in &unformatted {
        println!("{f} is not formatted");
    }
    if !unformatted.is_empty() {
        eprintln!("run `tulu fmt {}` to format", unformatted.join(" "));
    }
    Ok(if failed || !unformatted.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_graph(args: GraphArgs) -> Result<ExitCode> {
    let plan = check(&args.recipe)?;
    let out = match args.format {
        GraphFormat::Dot => tulu::graph::to_dot(&plan),
        GraphFormat::Mermaid => tulu::graph::to_mermaid(&plan),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn cmd_cat(args: CatArgs) -> Result<ExitCode> {
    let plan = check(&args.recipe)?;
    let node = plan
        .find(&args.node)
        .ok_or_else(|| unknown_node(&plan, &args.node))?;
    let cache_dir = cache_dir_for(Some(&args.recipe.recipe), &args.cache)?;
    let cache = open_cache(&cache_dir, &args.cache)?;
    let lock = Lockfile::read(&lock_path(&plan.recipe_path))?;
    let session = Session::new(&plan, &cache, lock.as_ref())?;
    let report = engine::plan_status(&session)?;
    let status = &report.nodes[node.id.0 as usize];
    let output = status.output.ok_or_else(|| {
        anyhow!(
            "`{}` is not in the cache in its current form; run `tulu run {} {}` first",
            node.name,
            args.recipe.recipe.display(),
            node.name
        )
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.card {
        writeln!(out, "{}", tulu::engine::card::data_card(&session, node)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let manifest = session.store.manifest(output).map_err(|e| anyhow!("{e}"))?;
    if args.summary || manifest.kind != "dataset" {
        let context = tulu::engine::summary::NodeContext {
            params: &node.params,
            input_names: node
                .inputs
                .iter()
                .map(|input| match input {
                    tulu::check::PlanInput::Node(id) => plan.node(*id).name.clone(),
                    tulu::check::PlanInput::File { display, .. } => display.clone(),
                })
                .collect(),
        };
        writeln!(
            out,
            "{}",
            tulu::engine::summary::render(&session.store, output, &manifest, &context)?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let ds = session.store.dataset(output).map_err(|e| anyhow!("{e}"))?;
    for row in ds.rows.iter().take(args.limit.unwrap_or(usize::MAX)) {
        let mut fields = row.fields.clone();
        if args.provenance {
            fields.insert("_provenance".into(), serde_json::to_value(&row.provenance)?);
        }
        if writeln!(out, "{}", serde_json::Value::Object(fields)).is_err() {
            break; // the reader went away (`| head`)
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_gc(args: GcArgs) -> Result<ExitCode> {
    let cache_dir = cache_dir_for(args.recipe.as_deref(), &args.cache)?;
    if !cache_dir.exists() {
        bail!("there is no cache at {}", cache_dir.display());
    }
    let cache = open_cache(&cache_dir, &args.cache)?;
    let mut roots: HashSet<Hash> = HashSet::new();
    let runs = cache.index().runs()?;
    let mut recipes: BTreeSet<String> = BTreeSet::new();
    for run in runs.iter().rev().take(args.keep_runs) {
        roots.extend(run.nodes.iter().map(|n| n.output_hash));
    }
    for run in &runs {
        recipes.insert(run.recipe.clone());
    }
    let mut lockfiles = 0;
    for recipe in &recipes {
        if let Ok(Some(lock)) = Lockfile::read(&lock_path(Path::new(recipe))) {
            lockfiles += 1;
            roots.extend(lock.nodes.iter().filter_map(|n| n.output_hash()));
        }
    }
    let report = cache.gc(&roots, args.dry_run)?;
    // Materialized model directories (hard links into the blob store) go with their artifact.
    let mut stale_models = Vec::new();
    if let Ok(entries) = std::fs::read_dir(cache_dir.join("models")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = name.parse::<Hash>().is_ok_and(|h| roots.contains(&h));
            if !keep {
                stale_models.push(entry.path());
            }
        }
    }
    if !args.dry_run {
        for dir in &stale_models {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        for blob in &report.removed_blobs {
            let what = match (&blob.node_name, &blob.op, &blob.file) {
                (Some(name), Some(op), Some(file)) => format!("{name} ({op}) {file}"),
                (Some(name), Some(op), None) => format!("{name} ({op})"),
                (Some(name), None, _) => name.clone(),
                _ => "(no record)".to_string(),
            };
            println!(
                "{verb} {}  {:>10}  {what}",
                blob.hash.short(),
                human_bytes(blob.size)
            );
        }
        for dir in &stale_models {
            println!("{verb} {}", dir.display());
        }
        println!(
            "{verb} {} objects ({}) and {} records; kept {} objects ({}) that {} lockfile(s) and the last {} run(s) use",
            report.removed_blobs.len(),
            human_bytes(report.removed_bytes),
            report.removed_records.len(),
            report.kept_blobs,
            human_bytes(report.kept_bytes),
            lockfiles,
            args.keep_runs.min(runs.len())
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn cmd_ops(args: OpsArgs) -> Result<ExitCode> {
    let reg = registry();
    let mut shown = 0;
    for op in reg.ops() {
        let sig = op.signature();
        if args.name.as_deref().is_some_and(|n| n != sig.name) {
            continue;
        }
        shown += 1;
        println!("{} (v{}) — {}", sig.name, sig.version, sig.doc);
        print_params(&sig.params);
    }
    for ctor in reg.ctors() {
        if args.name.as_deref().is_some_and(|n| n != ctor.name) {
            continue;
        }
        shown += 1;
        println!("{} → {} — {}", ctor.name, ctor.kind, ctor.doc);
        print_params(&ctor.params);
    }
    if shown == 0 {
        if let Some(name) = args.name {
            bail!("there is no op or constructor named `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_params(params: &[tulu::check::ParamSpec]) {
    use tulu::check::signature::Default as D;
    for p in params {
        let default = match &p.default {
            D::Required => "required".to_string(),
            D::Absent => "optional".to_string(),
            D::Value(v) => format!("= {}", v.describe()),
        };
        let constraint = p
            .constraint
            .as_ref()
            .map(|c| format!(", {}", c.describe()))
            .unwrap_or_default();
        println!(
            "    {}: {} {default}{constraint}  — {}",
            p.name, p.ty, p.doc
        );
    }
}
