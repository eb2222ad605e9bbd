//! Retries: every write the client sends carries an `Idempotency-Key` of its own, and
//! a request that got no answer, a 503 or a 409 `idempotency_key_in_use` is tried
//! again with the same key, up to `--retries` times; anything else is answered at
//! once. A scripted server stands in for a flaky one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use super::harness::Env;

/// What the scripted server does with one connection.
#[derive(Clone, Copy)]
enum Step {
    /// Reads the request and closes the connection without a word.
    Hang,
    /// Answers this status with this JSON body.
    Answer(u16, &'static str),
}

/// A server on 127.0.0.1 that plays `steps`, one per connection, and records each
/// request's head (lowercased header lines).
struct Scripted {
    url: String,
    heads: Arc<Mutex<Vec<Vec<String>>>>,
}

impl Scripted {
    fn start(steps: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        thread::spawn(move || {
            for step in steps {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let head = read_request(&stream);
                recorded.lock().unwrap().push(head);
                if let Step::Answer(status, body) = step {
                    answer(stream, status, body);
                }
            }
        });
        Self { url, heads }
    }

    fn heads(&self) -> Vec<Vec<String>> {
        self.heads.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Vec<String> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        head.push(line);
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    head
}

fn answer(mut stream: TcpStream, status: u16, body: &str) {
    let text = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nretry-after: 0\r\n\
         x-request-id: scripted\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(text.as_bytes());
}

/// The `idempotency-key` header of a recorded request.
fn key_of(head: &[String]) -> Option<String> {
    head.iter()
        .find_map(|line| line.strip_prefix("idempotency-key:"))
        .map(|value| value.trim().to_owned())
}

const CREATED: &str = r#"{"augmentation_id":"aug_01m98e0hm1ecftkynaptxvpd0j","name":"answer"}"#;
const UNAVAILABLE: &str =
    r#"{"error":"SERVICE_UNAVAILABLE","message":"busy","details":{},"request_id":"r"}"#;
const IN_USE: &str = r#"{"error":"CONFLICT","message":"still running","details":{"reason":"idempotency_key_in_use"},"request_id":"r"}"#;
const TAKEN: &str = r#"{"error":"CONFLICT","message":"taken","details":{"reason":"augmentation_name_taken"},"request_id":"r"}"#;

fn create(env: &Env, url: &str, extra: &[&str]) -> super::harness::Run {
    let mut args = vec![
        "augmentations",
        "create",
        "answer",
        "-o",
        "json",
        "--url",
        url,
    ];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn a_write_is_tried_again_with_its_key_after_no_answer_a_503_and_a_key_in_use() {
    let env = Env::with_app();
    let server = Scripted::start(vec![
        Step::Hang,
        Step::Answer(503, UNAVAILABLE),
        Step::Answer(409, IN_USE),
        Step::Answer(201, CREATED),
    ]);
    let run = create(&env, &server.url, &[]).expect(0);
    assert_eq!(run.json()["name"], "answer");
    let heads = server.heads();
    assert_eq!(heads.len(), 4);
    let keys: Vec<Option<String>> = heads.iter().map(|head| key_of(head)).collect();
    let first = keys[0].clone().expect("a write carries a key");
    assert!(first.starts_with("cutover-cli-"), "{first}");
    assert!(
        keys.iter().all(|key| key.as_deref() == Some(&first)),
        "{keys:?}"
    );
}

#[test]
fn other_refusals_and_spent_retries_are_answered_at_once() {
    let env = Env::with_app();
    let refused = Scripted::start(vec![Step::Answer(409, TAKEN), Step::Answer(201, CREATED)]);
    let run = create(&env, &refused.url, &[]).expect(3);
    assert!(
        run.error_line().contains("augmentation_name_taken"),
        "{}",
        run.stderr
    );
    assert_eq!(refused.heads().len(), 1);

    let flaky = Scripted::start(vec![
        Step::Answer(503, UNAVAILABLE),
        Step::Answer(503, UNAVAILABLE),
        Step::Answer(201, CREATED),
    ]);
    create(&env, &flaky.url, &["--retries", "1"]).expect(4);
    assert_eq!(flaky.heads().len(), 2);

    // Two writes are two keys; a read carries none.
    let twice = Scripted::start(vec![Step::Answer(201, CREATED), Step::Answer(201, CREATED)]);
    create(&env, &twice.url, &[]).expect(0);
    create(&env, &twice.url, &[]).expect(0);
    let keys: Vec<Option<String>> = twice.heads().iter().map(|head| key_of(head)).collect();
    assert_ne!(keys[0], keys[1]);
    let read = Scripted::start(vec![Step::Answer(
        200,
        r#"{"orgs":[],"total":0,"has_more":false,"next_cursor":null}"#,
    )]);
    env.run(&["orgs", "list", "--url", &read.url]).expect(0);
    assert_eq!(key_of(&read.heads()[0]), None);
}

#[test]
fn the_real_server_keeps_the_key_of_each_write_the_client_sends() {
    let env = Env::with_app();
    env.seed_draft();
    let database = rusqlite::Connection::open(env.database()).expect("open the database");
    let keys: Vec<String> = database
        .prepare("SELECT idempotency_key FROM idempotency_keys")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get(0))
                .and_then(Iterator::collect)
        })
        .expect("read the keys");
    // The org, workspace and app of `with_app`, then the draft's three entities.
    assert_eq!(keys.len(), 6, "{keys:?}");
    assert!(
        keys.iter().all(|key| key.starts_with("cutover-cli-")),
        "{keys:?}"
    );
}

#[test]
fn a_command_run_again_with_its_key_repeats_nothing() {
    let env = Env::with_app();
    env.seed_draft();
    let cut = |tag: &str| {
        env.run(&[
            "releases",
            "create",
            tag,
            "--idempotency-key",
            "job-7",
            "-o",
            "json",
        ])
    };
    let first = cut("v1").expect(0);
    let again = cut("v1").expect(0);
    assert_eq!(again.stdout, first.stdout, "the same answer, byte for byte");
    let listed = env.json(&["releases", "list", "--include-archived"]);
    assert_eq!(listed["total"], 1);
    // The key with another request is refused, and nothing is cut.
    let other = cut("v2").expect(3);
    assert!(
        other.error_line().contains("different request"),
        "{}",
        other.stderr
    );
    assert_eq!(env.json(&["releases", "list"])["total"], 1);

    // Later writes of one command get KEY-2, KEY-3…
    let server = Scripted::start(vec![Step::Answer(201, CREATED)]);
    create(&env, &server.url, &["--idempotency-key", "job-8"]).expect(0);
    assert_eq!(key_of(&server.heads()[0]).as_deref(), Some("job-8"));

    for bad in ["", "é", &"k".repeat(251)] {
        env.run(&["releases", "create", "v3", "--idempotency-key", bad])
            .expect(2);
    }
}
