//! Parallel deployment: `deploy --concurrency N` starts every stack whose
//! dependencies are all deployed, up to N at a time, on the engine's
//! single-threaded runtime (no `Send`, no spawned task: the stacks'
//! futures are polled side by side by [`Engine::deploy_parallel`]).
//!
//! Each stack runs in an engine of its own over the one shared connector
//! (so credentials are checked once per account and region), and writes
//! through a [`StackSink`]: every line is prefixed with the stack name, a
//! stack's progress is one line per change of its status, and what the
//! engine prints without waiting in between (a change-set table, the
//! guard's verdict) stays one block, since futures only interleave where
//! they wait.
//!
//! A failure starts no new stack; those running finish; the ones never
//! started are named at the end.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::{DeployOptions, Engine, Failure, ParamInput, Res, Sink};
use crate::deploy::port::{Connector, DeployError};

/// The default of `--concurrency`: three stacks at a time. Each running
/// stack polls `DescribeStacks` and `DescribeStackEvents` every few
/// seconds, well inside CloudFormation's API rate limits at three, and
/// three prefixed streams of events are still readable; most apps have
/// at most three stacks independent of each other at any point (network,
/// then data and edge, then services).
pub const DEFAULT_CONCURRENCY: usize = 3;

/// The connector of a parallel deployment: the engine's own, shared by
/// every running stack behind an async lock (a connection, and its check
/// of credentials, is made once and then cached by the connector).
#[derive(Debug)]
pub(super) struct Shared<'a, K>(&'a tokio::sync::Mutex<&'a mut K>);

impl<K> Clone for Shared<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Shared<'_, K> {}

impl<K: Connector> Connector for Shared<'_, K> {
    type Client = K::Client;

    async fn connect(&mut self, region: &str) -> Result<K::Client, DeployError> {
        self.0.lock().await.connect(region).await
    }

    async fn connect_in(
        &mut self,
        account: Option<&str>,
        region: &str,
    ) -> Result<K::Client, DeployError> {
        self.0.lock().await.connect_in(account, region).await
    }
}

/// The output of one stack of a parallel deployment, into the shared sink.
pub(super) struct StackSink<'a> {
    out: &'a RefCell<&'a mut dyn Sink>,
    stack: String,
    /// The resource count of the deployment followed.
    total: u64,
    /// The last progress printed (`done`, status).
    last: Option<(u64, String)>,
}

impl<'a> StackSink<'a> {
    pub(super) fn new(out: &'a RefCell<&'a mut dyn Sink>, stack: &str) -> Self {
        StackSink {
            out,
            stack: stack.to_string(),
            total: 0,
            last: None,
        }
    }

    fn prefixed(&self, s: &str) -> String {
        format!("[{}] {s}", self.stack)
    }
}

impl Sink for StackSink<'_> {
    fn line(&mut self, s: &str) {
        let l = self.prefixed(s);
        self.out.borrow_mut().line(&l);
    }
    fn error(&mut self, s: &str) {
        let l = self.prefixed(s);
        self.out.borrow_mut().error(&l);
    }
    fn interactive(&self) -> bool {
        self.out.borrow().interactive()
    }
    fn confirm(&mut self, question: &str) -> bool {
        let q = self.prefixed(question);
        self.out.borrow_mut().confirm(&q)
    }
    fn progress_start(&mut self, total: u64) {
        self.total = total;
        self.last = None;
    }
    fn progress(&mut self, done: u64, status: &str) {
        let now = (done, status.to_string());
        if self.last.as_ref() == Some(&now) {
            return;
        }
        let l = self.prefixed(&format!("{done}/{} resources  {status}", self.total));
        self.out.borrow_mut().line(&l);
        self.last = Some(now);
    }
}

/// What became of one stack.
#[derive(Debug)]
enum Ran {
    Deployed,
    Failed(Failure),
}

type Running<'a> = Pin<Box<dyn Future<Output = (String, Res, BTreeSet<String>)> + 'a>>;

/// The order of a parallel deployment, without I/O: which stacks may start
/// now, given those deployed, failed and running.
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    /// The selected stacks in dependency order, each with its
    /// dependencies among the selected stacks.
    stacks: Vec<(String, BTreeSet<String>)>,
}

impl Schedule {
    /// The schedule of `selected` (in dependency order) with the
    /// dependencies `depends_on` (by stack; dependencies outside the
    /// selection are taken as deployed, as a sequential deployment does).
    pub(super) fn new(selected: &[String], depends_on: &BTreeMap<String, Vec<String>>) -> Self {
        let stacks = selected
            .iter()
            .map(|s| {
                let deps = depends_on
                    .get(s)
                    .into_iter()
                    .flatten()
                    .filter(|d| selected.contains(d) && *d != s)
                    .cloned()
                    .collect();
                (s.clone(), deps)
            })
            .collect();
        Schedule { stacks }
    }

    /// The stacks that may start now, in dependency order: not started,
    /// every dependency deployed.
    pub(super) fn ready(
        &self,
        started: &BTreeSet<String>,
        deployed: &BTreeSet<String>,
    ) -> Vec<String> {
        self.stacks
            .iter()
            .filter(|(s, deps)| !started.contains(s) && deps.is_subset(deployed))
            .map(|(s, _)| s.clone())
            .collect()
    }
}

impl<K: Connector> Engine<K> {
    /// Deploys `selected` (in dependency order), up to
    /// `opts.concurrency` stacks at a time.
    pub(super) async fn deploy_parallel(
        &mut self,
        ui: &mut dyn Sink,
        selected: &[String],
        opts: &DeployOptions,
        input: &ParamInput,
        used_allowances: &mut BTreeSet<String>,
    ) -> Res {
        let depends_on: BTreeMap<String, Vec<String>> = self
            .stacks
            .iter()
            .map(|s| (s.name.clone(), s.depends_on.clone()))
            .collect();
        let schedule = Schedule::new(selected, &depends_on);
        let limit = opts.concurrency.max(1);
        ui.line(&format!(
            "Deploying {} stacks, up to {limit} at a time (--concurrency): {}",
            selected.len(),
            selected.join(", ")
        ));
        // Sub-engines share the connector and copy the rest.
        let (stacks, poll, wait_limit) = (self.stacks.clone(), self.poll, self.wait_limit);
        let (cancel, asset_dir) = (self.cancel.clone(), self.asset_dir.clone());
        let lock = tokio::sync::Mutex::new(&mut self.connector);
        let shared = Shared(&lock);
        let engine_over = |connector| Engine {
            stacks: stacks.clone(),
            connector,
            poll,
            wait_limit,
            cancel: cancel.clone(),
            asset_dir: asset_dir.clone(),
        };
        let out: RefCell<&mut dyn Sink> = RefCell::new(ui);
        let out = &out;
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut deployed: BTreeSet<String> = BTreeSet::new();
        let mut results: Vec<(String, Ran)> = Vec::new();
        let mut running: Vec<Running<'_>> = Vec::new();
        let mut stop = false;
        loop {
            if !stop && !cancel.is_cancelled() {
                for name in schedule.ready(&started, &deployed) {
                    if running.len() >= limit {
                        break;
                    }
                    started.insert(name.clone());
                    let mut engine = engine_over(shared);
                    running.push(Box::pin(async move {
                        let mut sink = StackSink::new(out, &name);
                        sink.line("starting");
                        let mut used = BTreeSet::new();
                        let r = engine
                            .deploy_one(&mut sink, &name, opts, input, &mut used)
                            .await;
                        match &r {
                            Ok(()) => sink.line("done"),
                            Err(_) => sink.line("failed"),
                        }
                        (name, r, used)
                    }));
                }
            }
            if running.is_empty() {
                break;
            }
            let (name, r, used) = next_done(&mut running).await;
            used_allowances.extend(used);
            match r {
                Ok(()) => {
                    deployed.insert(name.clone());
                    results.push((name, Ran::Deployed));
                }
                Err(f) => {
                    stop = true;
                    results.push((name, Ran::Failed(f)));
                }
            }
        }
        drop(running);
        let ui = &mut **out.borrow_mut();
        summarize(ui, selected, &started, results, cancel.is_cancelled())
    }
}

/// Polls the running stacks until one ends; removes and returns it.
async fn next_done<'a>(running: &mut Vec<Running<'a>>) -> (String, Res, BTreeSet<String>) {
    std::future::poll_fn(|cx| {
        for i in 0..running.len() {
            if let Poll::Ready(out) = running[i].as_mut().poll(cx) {
                drop(running.swap_remove(i));
                return Poll::Ready(out);
            }
        }
        Poll::Pending
    })
    .await
}

/// The end of a parallel deployment: one line per stack, and the failure
/// to return (the first; the others are printed).
fn summarize(
    ui: &mut dyn Sink,
    selected: &[String],
    started: &BTreeSet<String>,
    results: Vec<(String, Ran)>,
    cancelled: bool,
) -> Res {
    let mut first: Option<Failure> = None;
    let mut failed = Vec::new();
    for (name, ran) in results {
        if let Ran::Failed(f) = ran {
            failed.push(name.clone());
            match first {
                None => first = Some(f),
                Some(_) => {
                    if let Some(m) = describe(&f) {
                        ui.error(&format!("[{name}] {m}"));
                    }
                }
            }
        }
    }
    let not_started: Vec<&str> = selected
        .iter()
        .filter(|s| !started.contains(*s))
        .map(String::as_str)
        .collect();
    match first {
        None if not_started.is_empty() => Ok(()),
        None if cancelled => Err(Failure::Interrupted(format!(
            "Stopped: not started: {}; the stacks deployed so far are complete.",
            not_started.join(", ")
        ))),
        // Unreachable dependencies (a cycle): named, not skipped quietly.
        None => Err(Failure::Message(format!(
            "not started: {}: their dependencies were never all deployed (a cycle between \
             stacks?)",
            not_started.join(", ")
        ))),
        Some(f) => {
            if !not_started.is_empty() && cancelled {
                ui.line(&format!(
                    "Not started (stopped with Ctrl-C): {}",
                    not_started.join(", ")
                ));
            } else if !not_started.is_empty() {
                ui.line(&format!(
                    "Not started after the failure of {}: {} (deploy again once it is fixed)",
                    failed.join(", "),
                    not_started.join(", ")
                ));
            }
            Err(f)
        }
    }
}

/// A failure in one sentence, `None` when already printed.
fn describe(f: &Failure) -> Option<String> {
    match f {
        Failure::Deploy(e) => Some(e.to_string()),
        Failure::Message(m) | Failure::Refused(m) | Failure::Interrupted(m) => Some(m.clone()),
        Failure::Reported | Failure::Drifted => None,
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::deploy::engine::{Cancel, DriftMode, StackSpec};
    use crate::deploy::fake::{Execution, FakeCloud, Transcript};

    const REGION: &str = "us-west-2";

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn stack(name: &str, deps: &[&str]) -> StackSpec {
        let t = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic",
            "Metadata": {"khs:path": format!("{name}/Topic")},
            "Properties": {"DisplayName": name}}}});
        let mut s = StackSpec::new(name, REGION, t);
        s.depends_on = deps.iter().map(|d| d.to_string()).collect();
        s
    }

    /// network ← data ← service → edge: network and edge are independent.
    fn app() -> Vec<StackSpec> {
        vec![
            stack("network", &[]),
            stack("edge", &[]),
            stack("data", &["network"]),
            stack("service", &["data", "edge"]),
        ]
    }

    fn run(cloud: &FakeCloud, concurrency: usize) -> (Transcript, Res) {
        let mut e = Engine::new(app(), cloud.clone(), Cancel::new());
        e.poll = Duration::from_millis(1);
        let opts = DeployOptions {
            concurrency,
            skip_forecast: true,
            drift: DriftMode::Skip,
            ..DeployOptions::default()
        };
        let mut out = Transcript::default();
        let r = block_on(e.deploy(&mut out, &[], &opts, &ParamInput::default()));
        (out, r)
    }

    fn at(out: &Transcript, line: &str) -> usize {
        out.lines
            .iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("no line {line:?} in:\n{}", out.text()))
    }

    #[test]
    fn independent_stacks_overlap_and_dependents_wait() {
        let cloud = FakeCloud::new();
        let (out, r) = run(&cloud, 2);
        assert!(r.is_ok(), "{r:?}\n{}", out.text());
        for s in ["network", "edge", "data", "service"] {
            let st = cloud.stack(REGION, s).map(|s| s.status);
            assert_eq!(st.as_deref(), Some("CREATE_COMPLETE"), "{s}");
        }
        // network and edge run at the same time...
        assert!(at(&out, "[edge] starting") < at(&out, "[network] done"));
        // ...data waits for network, service for data and edge.
        assert!(at(&out, "[network] done") < at(&out, "[data] starting"));
        assert!(at(&out, "[data] done") < at(&out, "[service] starting"));
        assert!(at(&out, "[edge] done") < at(&out, "[service] starting"));
        // The fake saw the second execution before the first stack ended.
        let calls = cloud.world.borrow().calls.clone();
        let exec_edge = calls.iter().position(|c| c == "ExecuteChangeSet edge");
        let last_network = calls.iter().rposition(|c| c == "DescribeStacks network");
        assert!(exec_edge < last_network, "{calls:#?}");
        // Every line of a stack names it; progress is a line per status.
        assert!(
            out.lines
                .iter()
                .skip(1)
                .all(|l| l.starts_with('[') && l.contains("] ")),
            "{}",
            out.text()
        );
        assert!(
            out.lines
                .contains(&"[network] 1/1 resources  CREATE_COMPLETE".to_string())
        );
    }

    #[test]
    fn a_failure_starts_nothing_new_and_lets_running_stacks_finish() {
        let cloud = FakeCloud::new();
        cloud.world.borrow_mut().executions.insert(
            "network".to_string(),
            Execution::Fail {
                resource: "Topic".to_string(),
                reason: "Resource limit exceeded".to_string(),
            },
        );
        let (out, r) = run(&cloud, 2);
        assert!(matches!(r, Err(Failure::Reported)), "{r:?}\n{}", out.text());
        // edge was running: it finished.
        at(&out, "[edge] done");
        assert_eq!(
            cloud.stack(REGION, "edge").map(|s| s.status).as_deref(),
            Some("CREATE_COMPLETE")
        );
        // data and service were never started.
        assert!(cloud.stack(REGION, "data").is_none());
        assert!(cloud.stack(REGION, "service").is_none());
        at(
            &out,
            "Not started after the failure of network: data, service (deploy again once it is fixed)",
        );
    }

    #[test]
    fn a_stacks_change_set_table_is_one_block() {
        let cloud = FakeCloud::new();
        let (out, r) = run(&cloud, 2);
        assert!(r.is_ok(), "{r:?}\n{}", out.text());
        for s in ["network", "edge", "data", "service"] {
            let head = at(
                &out,
                &format!("[{s}] Change set for {s}: 1 resource change(s)"),
            );
            // The header, the column titles and the one row, together.
            for l in &out.lines[head..head + 3] {
                assert!(l.starts_with(&format!("[{s}] ")), "{}", out.text());
            }
        }
    }

    #[test]
    fn ctrl_c_stops_the_running_stacks_and_starts_nothing_new() {
        let cloud = FakeCloud::new();
        let cancel = Cancel::new();
        {
            let mut w = cloud.world.borrow_mut();
            w.executions.insert("network".to_string(), Execution::Hang);
            w.executions.insert("edge".to_string(), Execution::Hang);
            w.interrupt_after = Some((4, cancel.clone()));
        }
        let mut e = Engine::new(app(), cloud.clone(), cancel);
        e.poll = Duration::from_millis(1);
        let opts = DeployOptions {
            concurrency: 2,
            skip_forecast: true,
            drift: DriftMode::Skip,
            ..DeployOptions::default()
        };
        let mut out = Transcript::default();
        let r = block_on(e.deploy(&mut out, &[], &opts, &ParamInput::default()));
        let Err(Failure::Interrupted(m)) = &r else {
            panic!("not interrupted: {r:?}\n{}", out.text());
        };
        assert!(m.starts_with("Stopped following "), "{m}");
        at(&out, "[network] failed");
        at(&out, "[edge] failed");
        at(&out, "Not started (stopped with Ctrl-C): data, service");
        assert!(cloud.stack(REGION, "data").is_none());
    }

    #[test]
    fn concurrency_one_deploys_one_after_another_without_prefixes() {
        let cloud = FakeCloud::new();
        let (out, r) = run(&cloud, 1);
        assert!(r.is_ok(), "{r:?}\n{}", out.text());
        assert!(!out.text().contains("[network]"), "{}", out.text());
        let calls = cloud.world.borrow().calls.clone();
        let execs: Vec<&String> = calls
            .iter()
            .filter(|c| c.starts_with("ExecuteChangeSet"))
            .collect();
        assert_eq!(
            execs,
            [
                "ExecuteChangeSet network",
                "ExecuteChangeSet edge",
                "ExecuteChangeSet data",
                "ExecuteChangeSet service"
            ]
        );
    }

    #[test]
    fn the_schedule_starts_what_is_ready_in_dependency_order() {
        let selected: Vec<String> = ["network", "edge", "data", "service"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let deps: BTreeMap<String, Vec<String>> =
            app().into_iter().map(|s| (s.name, s.depends_on)).collect();
        let s = Schedule::new(&selected, &deps);
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(s.ready(&set(&[]), &set(&[])), ["network", "edge"]);
        assert_eq!(
            s.ready(&set(&["network", "edge"]), &set(&["network"])),
            ["data"]
        );
        assert_eq!(
            s.ready(
                &set(&["network", "edge", "data"]),
                &set(&["network", "data"])
            ),
            Vec::<String>::new()
        );
        // A dependency outside the selection counts as deployed.
        let only = vec!["data".to_string()];
        assert_eq!(
            Schedule::new(&only, &deps).ready(&set(&[]), &set(&[])),
            ["data"]
        );
    }
}
