//! Graceful shutdown: SIGTERM and SIGINT finish the requests in progress, answer every request sent before the signal, and exit 0.

use super::*;

/// A `sh` that waits for a process id on its standard input and then sends it a
/// signal with its builtin `kill`: the signal leaves microseconds after
/// [`SignalTrigger::fire`], not the millisecond or more that starting kill(1) takes.
struct SignalTrigger {
    child: Child,
    signal: String,
}

impl SignalTrigger {
    fn arm(signal: &str) -> Self {
        let child = Command::new("sh")
            .args(["-c", "read pid && kill -s \"$1\" \"$pid\"", "sh", signal])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh starts");
        Self {
            child,
            signal: signal.to_owned(),
        }
    }

    fn fire(&mut self, server: &Server) {
        let mut stdin = self.child.stdin.take().expect("the trigger is armed once");
        writeln!(stdin, "{}", server.pid()).expect("the trigger fires");
        drop(stdin);
        let deadline = Instant::now() + IO_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("sh can be waited for") {
                break status;
            }
            assert!(Instant::now() < deadline, "the signal trigger hangs");
            thread::sleep(Duration::from_millis(1));
        };
        assert!(status.success(), "kill -s {} failed", self.signal);
    }
}

impl Drop for SignalTrigger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How one request of a shutdown drill is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// A create whose head and half its body go out before the signal, the rest of
    /// the body well after it: in progress, for certain, when the signal arrives.
    Held,
    /// A complete create, sent just before the signal.
    Create,
    /// A complete list of releases, sent just before the signal.
    List,
}

/// Runs `plan` against a fresh server: opens one connection per request and has the
/// server answer a probe on each (so every connection was accepted), sends the
/// requests, waits `settle`, delivers `signal`, then finishes the held bodies. Every
/// request must get a complete answer, the process must exit 0 within
/// [`EXIT_TIMEOUT`], and every acknowledged release must be there after a restart.
/// Answers the failures (empty when all went well) and how many answers were logged
/// after the shutdown began.
fn shutdown_drill(signal: &str, plan: &[Sent], settle: Duration) -> (Vec<String>, usize) {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let mut server = start(&database, "json");
    let app = create_app(&server);
    let releases = format!("{app}/releases");
    let addr = server.addr;

    let mut connections = Vec::new();
    for _ in plan {
        let mut connection = Connection::open(addr).expect("a connection");
        let probe = connection
            .call(&request(addr, "GET", "/healthz", None, None))
            .expect("the connection is served");
        assert_eq!(probe.status, 200);
        connections.push(connection);
    }
    let mut trigger = SignalTrigger::arm(signal);

    // (how it is sent, its connection, what is left to send, its release tag)
    let mut in_flight = Vec::new();
    for (index, (sent, mut connection)) in plan.iter().zip(connections).enumerate() {
        let tag = format!("{signal}-{index}");
        let request = match sent {
            Sent::Held | Sent::Create => {
                let body = json!({"release_tag": tag, "description": "sent before the signal"});
                request(addr, "POST", &releases, Some(TOKEN), Some(&body))
            }
            Sent::List => request(addr, "GET", &releases, Some(TOKEN), None),
        };
        let split = match sent {
            Sent::Held => request.body_start + (request.bytes.len() - request.body_start) / 2,
            Sent::Create | Sent::List => request.bytes.len(),
        };
        connection
            .send(&request.bytes[..split])
            .expect("a request is sent");
        let rest = request.bytes[split..].to_vec();
        in_flight.push((*sent, connection, rest, tag));
    }
    thread::sleep(settle);
    trigger.fire(&server);
    let signalled = Instant::now();

    // Each connection reads its answer on its own thread; held ones first finish
    // their bodies, well after the signal.
    let outcomes: Vec<(Sent, String, io::Result<Reply>)> = thread::scope(|scope| {
        let readers: Vec<_> = in_flight
            .into_iter()
            .map(|(sent, mut connection, rest, tag)| {
                scope.spawn(move || {
                    let outcome = (|| {
                        if !rest.is_empty() {
                            thread::sleep(Duration::from_millis(300));
                            connection.send(&rest)?;
                        }
                        connection.receive()
                    })();
                    (sent, tag, outcome)
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|reader| reader.join().expect("a reader thread"))
            .collect()
    });

    let mut failures = Vec::new();
    let mut acknowledged = Vec::new();
    for (index, (sent, tag, outcome)) in outcomes.iter().enumerate() {
        let reply = match outcome {
            Ok(reply) => reply,
            Err(err) => {
                failures.push(format!("request {index} ({sent:?}): no answer: {err}"));
                continue;
            }
        };
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let complete = match sent {
            Sent::Held | Sent::Create => reply.status == 201 && body["release_tag"] == tag.as_str(),
            Sent::List => reply.status == 200 && body["releases"].is_array(),
        };
        if complete {
            if *sent != Sent::List {
                acknowledged.push(tag.clone());
            }
        } else {
            failures.push(format!(
                "request {index} ({sent:?}): {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
    }
    let status = server.wait_exit(EXIT_TIMEOUT);
    let stopped_after = signalled.elapsed();
    let lines = server.lines();
    assert_eq!(
        status.code(),
        Some(0),
        "SIG{signal} must end the server with status 0, not {status}; log:\n{}",
        lines.join("\n")
    );

    // How many answers the server logged after it began shutting down.
    let events = json_lines(&lines);
    let stopping = events
        .iter()
        .position(|event| {
            event["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("shutting down"))
        })
        .unwrap_or_else(|| panic!("no shutdown line in the log:\n{}", lines.join("\n")));
    let answered_while_stopping = events[stopping..]
        .iter()
        .filter(|event| event["target"] == "cutover::access")
        .count();
    eprintln!(
        "SIG{signal}: {} of {} requests answered, {answered_while_stopping} after the \
         signal; exited 0 {stopped_after:?} after the signal",
        plan.len() - failures.len(),
        plan.len()
    );

    // What was acknowledged while stopping is stored.
    let restarted = start(&database, "json");
    let listed = expect(
        call(
            &restarted,
            "GET",
            &format!("{releases}?limit=200"),
            Some(TOKEN),
            None,
        ),
        200,
    );
    let stored: BTreeSet<&str> = listed["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .filter_map(|release| release["release_tag"].as_str())
        .collect();
    for tag in &acknowledged {
        assert!(
            stored.contains(tag.as_str()),
            "release {tag} was acknowledged during shutdown but is not stored"
        );
    }
    (failures, answered_while_stopping)
}

/// Requests whose heads the server has read are all answered after SIGTERM (their
/// bodies arrive 300 ms after the signal), and the process then exits 0.
#[test]
fn sigterm_finishes_requests_in_progress_and_exits_zero() {
    let plan = [Sent::Held; 50];
    let (failures, answered_while_stopping) =
        shutdown_drill("TERM", &plan, Duration::from_millis(200));
    assert!(
        failures.is_empty(),
        "requests in progress at SIGTERM got no complete answer:\n{}",
        failures.join("\n")
    );
    assert!(answered_while_stopping >= plan.len());
}

#[test]
fn sigint_finishes_requests_in_progress_and_exits_zero() {
    let plan = [Sent::Held; 10];
    let (failures, answered_while_stopping) =
        shutdown_drill("INT", &plan, Duration::from_millis(200));
    assert!(
        failures.is_empty(),
        "requests in progress at SIGINT got no complete answer:\n{}",
        failures.join("\n")
    );
    assert!(answered_while_stopping >= plan.len());
}

/// A burst of 50 complete requests (creates and lists, on connections the server
/// already accepted) is dispatched and SIGTERM follows at once: every one of them
/// was fully sent before the signal, so every one must be answered. [`ROUNDS`]
/// rounds, each on a fresh server.
#[test]
fn sigterm_answers_every_request_sent_before_it() {
    let plan: Vec<Sent> = (0..50)
        .map(|index| {
            if index % 2 == 0 {
                Sent::Create
            } else {
                Sent::List
            }
        })
        .collect();
    let mut failures = Vec::new();
    for round in 1..=ROUNDS {
        let (lost, _) = shutdown_drill("TERM", &plan, Duration::ZERO);
        failures.extend(
            lost.into_iter()
                .map(|failure| format!("round {round}: {failure}")),
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests sent before SIGTERM got no complete answer:\n{}",
        failures.len(),
        ROUNDS * plan.len(),
        failures.join("\n")
    );
}

/// The "listening" line means the server is up, so SIGTERM from then on is a
/// graceful stop (status 0), not death by the signal's default action. [`ROUNDS`]
/// rounds, each signalled the moment the line appears.
#[test]
fn sigterm_right_after_the_ready_line_exits_zero() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let mut failures = Vec::new();
    for round in 1..=ROUNDS {
        let mut trigger = SignalTrigger::arm("TERM");
        let mut server = start(&database, "json");
        trigger.fire(&server);
        let status = server.wait_exit(EXIT_TIMEOUT);
        if status.code() != Some(0) {
            failures.push(format!("round {round}: {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "SIGTERM sent right after the ready line did not end the server with status 0:\n{}",
        failures.join("\n")
    );
}
