//! A scripted CloudFormation endpoint on 127.0.0.1 for what moto cannot
//! show: a deployment that stays in progress, per-resource events, a failed
//! update whose rollback fails, drift detection and stack refactoring. It
//! answers in the query protocol's XML, as AWS does, so the SDK client's
//! parsing is exercised:
//! - `DescribeStacks` and `DescribeStackEvents`: each `DescribeStacks` call
//!   moves the script one step on (the last step repeats), and
//!   `DescribeStackEvents` returns the events of the current step, newest
//!   first;
//! - with a deployed template ([`Extras::template`]): `GetTemplate`,
//!   `DescribeStackResources`, change sets (`CreateChangeSet`,
//!   `DescribeChangeSet` with one row per resource that differs, ignoring
//!   `Metadata`-only changes as moto does, `DeleteChangeSet`), and stack
//!   refactors (`CreateStackRefactor` accepted only when the template sent
//!   differs from the deployed one by resource ids alone,
//!   `DescribeStackRefactor`, `ExecuteStackRefactor` renaming the
//!   resources);
//! - drift detection (`DetectStackDrift`,
//!   `DescribeStackDriftDetectionStatus`, `DescribeStackResourceDrifts`)
//!   reporting [`Extras::drifts`].
//!
//! Any other action gets an AWS-shaped error. Every action is logged
//! ([`FakeCfn::actions`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One stack event of the script.
#[derive(Debug, Clone)]
pub struct Event {
    /// The logical ID (the stack name for stack events).
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The status (`UPDATE_FAILED`, …).
    pub status: String,
    /// The reason, if any.
    pub reason: Option<String>,
}

impl Event {
    /// An event of the stack itself.
    pub fn stack(stack: &str, status: &str, reason: Option<&str>) -> Event {
        Event::resource(stack, "AWS::CloudFormation::Stack", status, reason)
    }

    /// An event of a resource.
    pub fn resource(logical_id: &str, ty: &str, status: &str, reason: Option<&str>) -> Event {
        Event {
            logical_id: logical_id.to_string(),
            resource_type: ty.to_string(),
            status: status.to_string(),
            reason: reason.map(str::to_string),
        }
    }
}

/// One step: the stack's status and the events that happened in it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The stack status `DescribeStacks` reports.
    pub status: String,
    /// Events new in this step, oldest first.
    pub events: Vec<Event>,
}

/// A stack's scripted life.
#[derive(Debug, Clone)]
pub struct Script {
    /// The stack name.
    pub stack: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// A drifted property reported by `DescribeStackResourceDrifts`.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The logical id.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The property path (`/Properties/RetentionInDays`).
    pub path: String,
    /// The template's value.
    pub expected: String,
    /// AWS's value.
    pub actual: String,
}

/// What the endpoint knows besides the script.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The deployed template (JSON): enables `GetTemplate`, change sets and
    /// refactors.
    pub template: Option<String>,
    /// Drifted properties (drift detection is answered either way).
    pub drifts: Vec<Drift>,
}

#[derive(Debug)]
struct State {
    script: Script,
    step: usize,
    describe_calls: usize,
    extras: Extras,
    actions: Vec<String>,
    change_set: Option<String>,
    refactor: Option<(String, bool)>,
}

/// The running endpoint; stops on drop.
#[derive(Debug)]
pub struct FakeCfn {
    /// The port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeCfn {
    /// Starts serving `script` on a free 127.0.0.1 port.
    pub fn start(script: Script) -> std::io::Result<FakeCfn> {
        FakeCfn::start_with(script, Extras::default())
    }

    /// Starts serving `script` with a deployed template and drift results.
    pub fn start_with(script: Script, extras: Extras) -> std::io::Result<FakeCfn> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let state = Arc::new(Mutex::new(State {
            script,
            step: 0,
            describe_calls: 0,
            extras,
            actions: Vec::new(),
            change_set: None,
            refactor: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !sp.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = serve(conn, &st);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Ok(FakeCfn {
            port,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The actions answered, in order.
    pub fn actions(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.actions.clone())
            .unwrap_or_default()
    }

    /// The deployed template now (after refactors).
    pub fn template(&self) -> Option<String> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.extras.template.clone())
    }

    /// How many `DescribeStacks` calls were answered.
    pub fn describe_calls(&self) -> usize {
        self.state.lock().map(|s| s.describe_calls).unwrap_or(0)
    }
}

impl Drop for FakeCfn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body);
    let form: Vec<(String, String)> = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (status, xml) = match state.lock() {
        Ok(mut s) => {
            s.actions.push(action.clone());
            answer(&mut s, &action, &form)
        }
        Err(_) => (500, String::new()),
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
        if status == 200 { "OK" } else { "Bad Request" },
        xml.len()
    )?;
    conn.flush()
}

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

fn stack_id(stack: &str) -> String {
    format!(
        "arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/5f0c2a10-0000-4000-8000-000000000001"
    )
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response xmlns=\"{NS}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>fake-9</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn error(code: &str, message: &str) -> (u16, String) {
    (
        400,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>{}</Message>\
             </Error><RequestId>fake-3</RequestId></ErrorResponse>",
            escape(message)
        ),
    )
}

fn resources(template: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(template)
        .ok()
        .and_then(|t| t.get("Resources").and_then(|r| r.as_object()).cloned())
        .unwrap_or_default()
}

fn without_metadata(e: &serde_json::Value) -> serde_json::Value {
    let mut e = e.clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("Metadata");
    }
    e
}

/// The rows of a change set from `old` to `new` (no details, as moto).
fn rows(old: &str, new: &str) -> Vec<(String, String, String)> {
    let (o, n) = (resources(old), resources(new));
    let ty = |e: &serde_json::Value| {
        e.get("Type")
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let mut out = Vec::new();
    for (id, e) in &n {
        match o.get(id) {
            None => out.push(("Add".to_string(), id.clone(), ty(e))),
            Some(b) if without_metadata(b) != without_metadata(e) => {
                out.push(("Modify".to_string(), id.clone(), ty(e)))
            }
            _ => {}
        }
    }
    for (id, e) in &o {
        if !n.contains_key(id) {
            out.push(("Remove".to_string(), id.clone(), ty(e)));
        }
    }
    out
}

/// Whether `sent` is `deployed` with only resource ids renamed (by `moves`,
/// old → new): the keys renamed, every entry otherwise equal once the
/// references are renamed too (compared as text with each old id replaced).
fn only_renamed(deployed: &str, sent: &str, moves: &[(String, String)]) -> bool {
    let mut renamed = deployed.to_string();
    for (from, to) in moves {
        renamed = renamed.replace(&format!("\"{from}\""), &format!("\"{to}\""));
        renamed = renamed.replace(&format!("${{{from}}}"), &format!("${{{to}}}"));
    }
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
    parse(&renamed).is_some() && parse(&renamed) == parse(sent)
}

fn answer(s: &mut State, action: &str, form: &[(String, String)]) -> (u16, String) {
    let stack = s.script.stack.clone();
    let sid = stack_id(&stack);
    const TS: &str = "2026-12-01T10:00:00.000Z";
    match action {
        "GetTemplate" => match &s.extras.template {
            Some(t) => ok(
                action,
                &format!(
                    "<TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member></StagesAvailable>",
                    escape(t)
                ),
            ),
            None => error(
                "ValidationError",
                &format!("Stack with id {stack} does not exist"),
            ),
        },
        "DescribeStackResources" => {
            let t = s.extras.template.clone().unwrap_or_default();
            let members: Vec<String> = resources(&t)
                .iter()
                .map(|(id, e)| {
                    format!(
                        "<member><StackName>{stack}</StackName><StackId>{sid}</StackId>\
                         <LogicalResourceId>{id}</LogicalResourceId>\
                         <PhysicalResourceId>{stack}-{}</PhysicalResourceId>\
                         <ResourceType>{}</ResourceType><Timestamp>{TS}</Timestamp>\
                         <ResourceStatus>UPDATE_COMPLETE</ResourceStatus></member>",
                        id.to_ascii_lowercase(),
                        e.get("Type").and_then(|t| t.as_str()).unwrap_or_default()
                    )
                })
                .collect();
            ok(
                action,
                &format!("<StackResources>{}</StackResources>", members.concat()),
            )
        }
        "CreateChangeSet" => {
            s.change_set = param(form, "TemplateBody").map(str::to_string);
            ok(
                action,
                &format!(
                    "<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/khs/1</Id><StackId>{sid}</StackId>"
                ),
            )
        }
        "DescribeChangeSet" => {
            let old = s.extras.template.clone().unwrap_or_default();
            let new = s.change_set.clone().unwrap_or_default();
            let rows = rows(&old, &new);
            let head = format!(
                "<ChangeSetName>khs</ChangeSetName><ChangeSetId>arn:aws:cloudformation:us-east-1:123456789012:changeSet/khs/1</ChangeSetId>\
                 <StackId>{sid}</StackId><StackName>{stack}</StackName>"
            );
            if rows.is_empty() {
                return ok(
                    action,
                    &format!(
                        "{head}<Status>FAILED</Status><ExecutionStatus>UNAVAILABLE</ExecutionStatus>\
                     <StatusReason>The submitted information didn't contain changes. Submit different information to create a change set.</StatusReason><Changes/>"
                    ),
                );
            }
            let members: Vec<String> = rows
                .iter()
                .map(|(a, id, ty)| {
                    format!(
                        "<member><Type>Resource</Type><ResourceChange><Action>{a}</Action>\
                         <LogicalResourceId>{id}</LogicalResourceId><ResourceType>{ty}</ResourceType>\
                         </ResourceChange></member>"
                    )
                })
                .collect();
            ok(
                action,
                &format!(
                    "{head}<Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{}</Changes>",
                    members.concat()
                ),
            )
        }
        "DeleteChangeSet" => {
            s.change_set = None;
            ok(action, "")
        }
        "CreateStackRefactor" => {
            let body = param(form, "StackDefinitions.member.1.TemplateBody").unwrap_or_default();
            let mut moves = Vec::new();
            for i in 1.. {
                let from = param(
                    form,
                    &format!("ResourceMappings.member.{i}.Source.LogicalResourceId"),
                );
                let to = param(
                    form,
                    &format!("ResourceMappings.member.{i}.Destination.LogicalResourceId"),
                );
                match (from, to) {
                    (Some(f), Some(t)) => moves.push((f.to_string(), t.to_string())),
                    _ => break,
                }
            }
            let deployed = s.extras.template.clone().unwrap_or_default();
            let accepted = !moves.is_empty() && only_renamed(&deployed, body, &moves);
            s.refactor = Some((body.to_string(), accepted));
            ok(action, "<StackRefactorId>refactor-1</StackRefactorId>")
        }
        "DescribeStackRefactor" => {
            let (status, exec, reason) = match &s.refactor {
                Some((_, false)) => (
                    "CREATE_FAILED",
                    "UNAVAILABLE",
                    "<StatusReason>the templates change more than resource ids</StatusReason>",
                ),
                Some((_, true))
                    if s.extras.template.as_deref()
                        == s.refactor.as_ref().map(|r| r.0.as_str()) =>
                {
                    ("CREATE_COMPLETE", "EXECUTE_COMPLETE", "")
                }
                Some((_, true)) => ("CREATE_COMPLETE", "AVAILABLE", ""),
                None => return error("StackRefactorNotFoundException", "no refactor"),
            };
            ok(
                action,
                &format!(
                    "<StackRefactorId>refactor-1</StackRefactorId><StackIds><member>{sid}</member></StackIds>\
                 <Status>{status}</Status><ExecutionStatus>{exec}</ExecutionStatus>{reason}"
                ),
            )
        }
        "ExecuteStackRefactor" => match s.refactor.clone() {
            Some((body, true)) => {
                s.extras.template = Some(body);
                (
                    200,
                    format!(
                        "<ExecuteStackRefactorResponse xmlns=\"{NS}\"><ResponseMetadata><RequestId>fake-8</RequestId></ResponseMetadata></ExecuteStackRefactorResponse>"
                    ),
                )
            }
            _ => error(
                "ValidationError",
                "the refactor is not available for execution",
            ),
        },
        "DetectStackDrift" => ok(
            action,
            "<StackDriftDetectionId>drift-1</StackDriftDetectionId>",
        ),
        "DescribeStackDriftDetectionStatus" => ok(
            action,
            &format!(
                "<StackId>{sid}</StackId><StackDriftDetectionId>drift-1</StackDriftDetectionId>\
                 <StackDriftStatus>{}</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus>\
                 <DriftedStackResourceCount>{}</DriftedStackResourceCount><Timestamp>{TS}</Timestamp>",
                if s.extras.drifts.is_empty() {
                    "IN_SYNC"
                } else {
                    "DRIFTED"
                },
                s.extras.drifts.len()
            ),
        ),
        "DescribeStackResourceDrifts" => {
            let members: Vec<String> = s
                .extras
                .drifts
                .iter()
                .map(|d| {
                    format!(
                        "<member><StackId>{sid}</StackId><LogicalResourceId>{}</LogicalResourceId>\
                         <PhysicalResourceId>{stack}-{}</PhysicalResourceId><ResourceType>{}</ResourceType>\
                         <PropertyDifferences><member><PropertyPath>{}</PropertyPath>\
                         <ExpectedValue>{}</ExpectedValue><ActualValue>{}</ActualValue>\
                         <DifferenceType>NOT_EQUAL</DifferenceType></member></PropertyDifferences>\
                         <StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus><Timestamp>{TS}</Timestamp></member>",
                        d.logical_id,
                        d.logical_id.to_ascii_lowercase(),
                        d.resource_type,
                        escape(&d.path),
                        escape(&d.expected),
                        escape(&d.actual)
                    )
                })
                .collect();
            ok(
                action,
                &format!(
                    "<StackResourceDrifts>{}</StackResourceDrifts>",
                    members.concat()
                ),
            )
        }
        "DescribeStacks" => {
            s.step = s.describe_calls.min(s.script.steps.len().saturating_sub(1));
            s.describe_calls += 1;
            let status = s
                .script
                .steps
                .get(s.step)
                .map(|st| st.status.clone())
                .unwrap_or_default();
            (
                200,
                format!(
                    "<DescribeStacksResponse xmlns=\"{NS}\"><DescribeStacksResult><Stacks><member>\
                     <StackId>{}</StackId><StackName>{stack}</StackName>\
                     <StackStatus>{status}</StackStatus>\
                     <CreationTime>2026-11-25T15:00:00.000Z</CreationTime>\
                     <EnableTerminationProtection>false</EnableTerminationProtection>\
                     </member></Stacks></DescribeStacksResult>\
                     <ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata>\
                     </DescribeStacksResponse>",
                    stack_id(&stack)
                ),
            )
        }
        "DescribeStackEvents" => {
            let mut members = Vec::new();
            let mut n = 0;
            for (i, step) in s.script.steps.iter().enumerate().take(s.step + 1) {
                for e in &step.events {
                    n += 1;
                    let reason = e
                        .reason
                        .as_deref()
                        .map(|r| {
                            format!("<ResourceStatusReason>{}</ResourceStatusReason>", escape(r))
                        })
                        .unwrap_or_default();
                    members.push(format!(
                        "<member><StackId>{}</StackId><EventId>event-{n:04}</EventId>\
                         <StackName>{stack}</StackName><LogicalResourceId>{}</LogicalResourceId>\
                         <ResourceType>{}</ResourceType>\
                         <Timestamp>2026-11-25T15:{:02}:{:02}.000Z</Timestamp>\
                         <ResourceStatus>{}</ResourceStatus>{reason}</member>",
                        stack_id(&stack),
                        e.logical_id,
                        e.resource_type,
                        i,
                        n % 60,
                        e.status
                    ));
                }
            }
            members.reverse();
            (
                200,
                format!(
                    "<DescribeStackEventsResponse xmlns=\"{NS}\"><DescribeStackEventsResult>\
                     <StackEvents>{}</StackEvents></DescribeStackEventsResult>\
                     <ResponseMetadata><RequestId>fake-2</RequestId></ResponseMetadata>\
                     </DescribeStackEventsResponse>",
                    members.concat()
                ),
            )
        }
        other => (
            400,
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type>\
                 <Code>InvalidAction</Code><Message>the scripted endpoint does not answer {}</Message>\
                 </Error><RequestId>fake-3</RequestId></ErrorResponse>",
                escape(other)
            ),
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
