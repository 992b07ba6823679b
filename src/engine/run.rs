//! `tulu run`: execute the plan. Independent nodes run in parallel on worker threads; a node
//! starts once its inputs' outputs are known, and is served from the cache when its key (which
//! holds those outputs' hashes) is there — so an edit whose node reproduces its old output stops
//! there (early cutoff). A failed node stops only its descendants; everything that finished stays
//! cached. A corrupt input found while loading is evicted and its producer runs again.

use std::collections::{BTreeSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::artifacts::LoadError;
use super::lockfile::Lockfile;
use super::progress::{NodeProgress, RunProgress};
use super::reasons::Reason;
use super::report::{NodeReport, Report, Status};
use super::session::{Hit, Session};
use crate::cache::{Hash, RunNode, RunRecord};
use crate::check::value::NodeId;
use crate::check::{PlanInput, PlanNode};
use crate::graph::PlanGraph;
use crate::ops::{Input, OpCall, OpContext};

pub struct RunOptions<'a> {
    /// Worker threads: how many nodes may run at once.
    pub jobs: usize,
    /// Run only these nodes and what they need (all when `None`).
    pub targets: Option<BTreeSet<NodeId>>,
    /// Under `--locked`: every output must equal the lockfile's.
    pub locked: Option<&'a Lockfile>,
    /// Set on Ctrl-C: running ops stop at their next check, nothing new starts.
    pub cancel: &'a AtomicBool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Waiting,
    Queued,
    Running,
    Done(Hash),
    Failed,
    Skipped,
    NotTargeted,
}

struct Job {
    id: NodeId,
    key: Hash,
    inputs: Vec<Hash>,
}

enum Outcome {
    Ran(Hash),
    /// Loading input #i failed its check; the blob was evicted.
    InputDamaged(usize),
    Failed(String),
}

struct Finished {
    id: NodeId,
    key: Hash,
    outcome: Outcome,
    duration: Duration,
    progress: NodeProgress,
}

/// How many times one node may be recomputed because a consumer found its output damaged.
const MAX_RECOVERIES: u32 = 2;

pub fn run(session: &Session, progress: &RunProgress, opts: &RunOptions) -> anyhow::Result<Report> {
    let plan = session.plan;
    let n = plan.nodes.len();
    let graph = PlanGraph::new(plan);
    let started_unix = now_unix();

    let mut state = vec![State::Waiting; n];
    if let Some(targets) = &opts.targets {
        let needed = ancestors(session, targets);
        for (i, s) in state.iter_mut().enumerate() {
            if !needed.contains(&NodeId(i as u32)) {
                *s = State::NotTargeted;
            }
        }
    }
    let mut reports: Vec<Option<NodeReport>> = vec![None; n];
    // Each node's output once it is done: kept beside `state` (a node's key needs its inputs'
    // outputs, and rebuilding this per node made a run quadratic in the number of nodes).
    let mut outputs: Vec<Option<Hash>> = vec![None; n];
    let mut keys: Vec<Option<Hash>> = vec![None; n];
    let mut recoveries = vec![0u32; n];
    let mut ready: VecDeque<NodeId> = VecDeque::new();
    for node in &plan.nodes {
        if state[node.id.0 as usize] == State::Waiting && inputs_done(session, &state, node.id) {
            state[node.id.0 as usize] = State::Queued;
            ready.push_back(node.id);
        }
    }

    let (job_tx, job_rx) = unbounded::<Job>();
    let (done_tx, done_rx) = unbounded::<Finished>();
    let work_counter = AtomicU64::new(0);

    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..opts.jobs.max(1) {
            let job_rx: Receiver<Job> = job_rx.clone();
            let done_tx: Sender<Finished> = done_tx.clone();
            let work_counter = &work_counter;
            scope.spawn(move || {
                for job in job_rx.iter() {
                    let node = session.plan.node(job.id);
                    let node_progress = progress.node_started(&node.name);
                    let start = Instant::now();
                    let outcome = execute(session, &job, &node_progress, opts.cancel, work_counter);
                    let _ = done_tx.send(Finished {
                        id: job.id,
                        key: job.key,
                        outcome,
                        duration: start.elapsed(),
                        progress: node_progress,
                    });
                }
            });
        }
        drop(done_tx);
        let mut running = 0usize;
        loop {
            // Start or serve everything that is ready.
            while let Some(id) = ready.pop_front() {
                let i = id.0 as usize;
                if state[i] != State::Queued {
                    continue; // skipped meanwhile, because an input failed
                }
                let node = plan.node(id);
                if opts.cancel.load(Ordering::Relaxed) {
                    state[i] = State::Skipped;
                    reports[i] = Some(simple_report(
                        session,
                        id,
                        Status::Skipped,
                        None,
                        vec![],
                        Some("cancelled".into()),
                    ));
                    continue;
                }
                let inputs = session.input_hashes(node, &outputs);
                let hashes: Vec<Hash> =
                    inputs.iter().map(|h| h.expect("inputs are done")).collect();
                let key = session.key(node, &hashes);
                keys[i] = Some(key);
                let mut reasons = Vec::new();
                match session.lookup(node, key)? {
                    Hit::Cached(output) => {
                        let _ = session
                            .cache()
                            .index()
                            .note_hit(key, &node.name, now_unix());
                        match lock_mismatch(opts.locked, &node.name, output) {
                            None => {
                                let report = NodeReport {
                                    key: Some(key),
                                    details: node_details(session, node, output),
                                    ..simple_report(
                                        session,
                                        id,
                                        Status::Cached,
                                        Some(output),
                                        vec![],
                                        None,
                                    )
                                };
                                progress.node_finished(None, &report.line());
                                reports[i] = Some(report);
                                state[i] = State::Done(output);
                                outputs[i] = Some(output);
                                release_dependents(session, &graph, &mut state, &mut ready, id);
                            }
                            Some(error) => {
                                fail(
                                    session,
                                    &graph,
                                    &mut state,
                                    &mut reports,
                                    progress,
                                    id,
                                    Some(key),
                                    vec![],
                                    error,
                                    None,
                                    None,
                                );
                            }
                        }
                        continue;
                    }
                    Hit::Miss => reasons = session.reasons(node, &inputs),
                    Hit::Unusable(reason) => reasons.push(reason),
                }
                reports[i] = Some(NodeReport {
                    key: Some(key),
                    reasons,
                    ..simple_report(session, id, Status::Run, None, vec![], None)
                });
                state[i] = State::Running;
                running += 1;
                job_tx.send(Job {
                    id,
                    key,
                    inputs: hashes,
                })?;
            }
            if running == 0 {
                break;
            }
            let Ok(finished) = done_rx.recv() else { break };
            running -= 1;
            let i = finished.id.0 as usize;
            let node = plan.node(finished.id);
            let reasons = reports[i]
                .as_ref()
                .map(|r| r.reasons.clone())
                .unwrap_or_default();
            match finished.outcome {
                Outcome::Ran(output) => {
                    let inputs = session.input_hashes(node, &outputs);
                    let record = RunRecord {
                        output_hash: output,
                        op: node.op.to_string(),
                        op_version: node.op_version,
                        params: node.params.clone(),
                        inputs: node
                            .input_labels
                            .iter()
                            .cloned()
                            .zip(inputs.into_iter().flatten())
                            .collect(),
                        node_name: node.name.clone(),
                        duration_ms: finished.duration.as_millis() as u64,
                        created_unix: now_unix(),
                        hits: 0,
                        last_used_unix: now_unix(),
                    };
                    if let Err(e) = session.cache().put_record(finished.key, &record) {
                        fail(
                            session,
                            &graph,
                            &mut state,
                            &mut reports,
                            progress,
                            finished.id,
                            Some(finished.key),
                            reasons,
                            format!("cannot record the result: {e}"),
                            Some(finished.duration),
                            Some(finished.progress),
                        );
                        continue;
                    }
                    if let Some(error) = lock_mismatch(opts.locked, &node.name, output) {
                        fail(
                            session,
                            &graph,
                            &mut state,
                            &mut reports,
                            progress,
                            finished.id,
                            Some(finished.key),
                            reasons,
                            error,
                            Some(finished.duration),
                            Some(finished.progress),
                        );
                        continue;
                    }
                    let report = NodeReport {
                        name: node.name.clone(),
                        op: node.op.to_string(),
                        key: Some(finished.key),
                        status: Status::Ran,
                        reasons,
                        output: Some(output),
                        duration: Some(finished.duration),
                        error: None,
                        details: node_details(session, node, output),
                    };
                    progress.node_finished(Some(finished.progress), &report.line());
                    reports[i] = Some(report);
                    state[i] = State::Done(output);
                    outputs[i] = Some(output);
                    release_dependents(session, &graph, &mut state, &mut ready, finished.id);
                }
                Outcome::InputDamaged(input_index) => {
                    // The producer's output was evicted: run the producer again, then this node.
                    let producer = match node.inputs.get(input_index) {
                        Some(PlanInput::Node(p)) => *p,
                        _ => {
                            fail(
                                session,
                                &graph,
                                &mut state,
                                &mut reports,
                                progress,
                                finished.id,
                                Some(finished.key),
                                reasons,
                                "an input file could not be read".into(),
                                Some(finished.duration),
                                Some(finished.progress),
                            );
                            continue;
                        }
                    };
                    let p = producer.0 as usize;
                    recoveries[p] += 1;
                    if recoveries[p] > MAX_RECOVERIES {
                        let error = format!(
                            "the output of `{}` keeps failing its hash check; is the disk failing?",
                            plan.node(producer).name
                        );
                        fail(
                            session,
                            &graph,
                            &mut state,
                            &mut reports,
                            progress,
                            finished.id,
                            Some(finished.key),
                            reasons,
                            error,
                            Some(finished.duration),
                            Some(finished.progress),
                        );
                        continue;
                    }
                    if let Some(key) = keys[p] {
                        let _ = session.cache().index().remove_record(key);
                    }
                    progress.println(&format!(
                        "  evicted `{}`: its cached output failed its hash check; recomputing it",
                        plan.node(producer).name
                    ));
                    progress.node_finished(Some(finished.progress), "");
                    state[i] = State::Waiting;
                    reports[i] = None;
                    state[p] = State::Queued;
                    outputs[p] = None;
                    if let Some(r) = reports[p].as_mut() {
                        r.reasons = vec![Reason::OutputCorrupt];
                    }
                    ready.push_back(producer);
                }
                Outcome::Failed(error) => {
                    fail(
                        session,
                        &graph,
                        &mut state,
                        &mut reports,
                        progress,
                        finished.id,
                        Some(finished.key),
                        reasons,
                        error,
                        Some(finished.duration),
                        Some(finished.progress),
                    );
                }
            }
        }
        drop(job_tx);
        Ok(())
    })?;
    progress.finish();

    // Nodes never reached (an input failed or the run was cancelled) are skipped.
    for node in &plan.nodes {
        let i = node.id.0 as usize;
        if reports[i].is_none() && state[i] != State::NotTargeted {
            reports[i] = Some(simple_report(
                session,
                node.id,
                Status::Skipped,
                None,
                vec![],
                None,
            ));
        }
    }
    let report = Report {
        nodes: reports.into_iter().flatten().collect(),
    };
    let used: Vec<RunNode> = plan
        .nodes
        .iter()
        .filter_map(
            |node| match (state[node.id.0 as usize], keys[node.id.0 as usize]) {
                (State::Done(output), Some(key)) => Some(RunNode {
                    node_name: node.name.clone(),
                    key,
                    output_hash: output,
                }),
                _ => None,
            },
        )
        .collect();
    session.cache().index().append_run(
        plan.recipe_path.display().to_string(),
        started_unix,
        now_unix(),
        used,
    )?;
    Ok(report)
}

/// Run one node's op on a worker thread.
fn execute(
    session: &Session,
    job: &Job,
    progress: &NodeProgress,
    cancel: &AtomicBool,
    counter: &AtomicU64,
) -> Outcome {
    let node = session.plan.node(job.id);
    let op = match session.op(node) {
        Ok(op) => op,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let mut inputs = Vec::with_capacity(node.inputs.len());
    for (index, (input, hash)) in node.inputs.iter().zip(&job.inputs).enumerate() {
        let loaded = match input {
            PlanInput::File { path, .. } => Ok(Input::File(path.clone())),
            PlanInput::Node(id) => session
                .store
                .load(&session.plan.node(*id).output_type, *hash),
        };
        match loaded {
            Ok(i) => inputs.push(i),
            Err(LoadError::Damaged { .. }) => return Outcome::InputDamaged(index),
            Err(LoadError::Other(e)) => {
                return Outcome::Failed(format!(
                    "cannot load input `{}`: {e:#}",
                    node.input_labels[index]
                ))
            }
        }
    }
    let work_dir = session.cache().blobs().temp_dir().join(format!(
        "work-{}-{}-{}",
        job.key.short(),
        std::process::id(),
        counter.fetch_add(1, Ordering::Relaxed)
    ));
    if let Err(e) = std::fs::create_dir_all(&work_dir) {
        return Outcome::Failed(format!("cannot create a work directory: {e}"));
    }
    let call = OpCall {
        params: node.params.clone(),
        inputs,
    };
    let ctx = OpContext {
        work_dir: work_dir.clone(),
        recipe_dir: session
            .plan
            .recipe_path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
        seed: Session::seed_of(node, job.key),
        progress,
        cancel,
    };
    let result = catch_unwind(AssertUnwindSafe(|| op.execute(&call, &ctx)));
    let outcome = match result {
        Ok(Ok(output)) => match session.store.store(output, &work_dir) {
            Ok(hash) => Outcome::Ran(hash),
            Err(e) => Outcome::Failed(format!("cannot store the output: {e:#}")),
        },
        Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Outcome::Failed(format!(
                "op `{}` crashed (a bug in tulu, please report it): {message}",
                node.op
            ))
        }
    };
    let _ = std::fs::remove_dir_all(&work_dir);
    outcome
}

fn inputs_done(session: &Session, state: &[State], id: NodeId) -> bool {
    session
        .plan
        .node_inputs(id)
        .all(|input| matches!(state[input.0 as usize], State::Done(_)))
}

fn release_dependents(
    session: &Session,
    graph: &PlanGraph,
    state: &mut [State],
    ready: &mut VecDeque<NodeId>,
    id: NodeId,
) {
    let mut dependents = graph.dependents(id);
    dependents.sort();
    dependents.dedup();
    for d in dependents {
        let i = d.0 as usize;
        if state[i] == State::Waiting && inputs_done(session, state, d) {
            state[i] = State::Queued;
            ready.push_back(d);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fail(
    session: &Session,
    graph: &PlanGraph,
    state: &mut [State],
    reports: &mut [Option<NodeReport>],
    progress: &RunProgress,
    id: NodeId,
    key: Option<Hash>,
    reasons: Vec<Reason>,
    error: String,
    duration: Option<Duration>,
    node_progress: Option<NodeProgress>,
) {
    let i = id.0 as usize;
    let node = session.plan.node(id);
    state[i] = State::Failed;
    let report = NodeReport {
        name: node.name.clone(),
        op: node.op.to_string(),
        key,
        status: Status::Failed,
        reasons,
        output: None,
        duration,
        error: Some(error),
        details: None,
    };
    progress.node_finished(node_progress, &report.line());
    reports[i] = Some(report);
    for d in graph.descendants(id) {
        let j = d.0 as usize;
        if matches!(state[j], State::Waiting | State::Queued) {
            state[j] = State::Skipped;
            let upstream = format!("input `{}` failed", node.name);
            reports[j] = Some(simple_report(
                session,
                d,
                Status::Skipped,
                None,
                vec![],
                Some(upstream),
            ));
        }
    }
}

fn simple_report(
    session: &Session,
    id: NodeId,
    status: Status,
    output: Option<Hash>,
    reasons: Vec<Reason>,
    error: Option<String>,
) -> NodeReport {
    let node = session.plan.node(id);
    NodeReport {
        name: node.name.clone(),
        op: node.op.to_string(),
        key: None,
        status,
        reasons,
        output,
        duration: None,
        error,
        details: None,
    }
}

/// What the node's op reports about its output beyond the status (`Op::details`), read from
/// the output's manifest.
fn node_details(session: &Session, node: &PlanNode, output: Hash) -> Option<serde_json::Value> {
    let op = session.op(node).ok()?;
    let manifest = session.store.manifest(output).ok()?;
    op.details(&manifest.meta)
}

fn lock_mismatch(lock: Option<&Lockfile>, name: &str, output: Hash) -> Option<String> {
    let expected = lock?.node(name)?.output_hash()?;
    (expected != output).then(|| {
        format!(
            "not reproducible: the output is {} but the lockfile has {}; the op is not deterministic here, or its inputs differ",
            output.short(),
            expected.short()
        )
    })
}

/// The targets and everything they (transitively) read.
fn ancestors(session: &Session, targets: &BTreeSet<NodeId>) -> BTreeSet<NodeId> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<NodeId> = targets.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if out.insert(id) {
            stack.extend(session.plan.node_inputs(id));
        }
    }
    out
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
