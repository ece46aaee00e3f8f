//! A scripted CloudFormation endpoint on 127.0.0.1 for what moto cannot
//! show: a deployment that stays in progress, per-resource events, a failed
//! update whose rollback fails. It answers `DescribeStacks` and
//! `DescribeStackEvents` in the query protocol's XML, as AWS does; each
//! `DescribeStacks` call moves the script one step on (the last step
//! repeats), and `DescribeStackEvents` returns the events of the current
//! step, newest first. Any other action gets an AWS-shaped error.

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

#[derive(Debug)]
struct State {
    script: Script,
    step: usize,
    describe_calls: usize,
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
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let state = Arc::new(Mutex::new(State {
            script,
            step: 0,
            describe_calls: 0,
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
    let action = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or_default()
        .to_string();
    let (status, xml) = match state.lock() {
        Ok(mut s) => answer(&mut s, &action),
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

fn answer(s: &mut State, action: &str) -> (u16, String) {
    let stack = s.script.stack.clone();
    match action {
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
