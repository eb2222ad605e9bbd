//! What can go wrong in a client command, and the exit code each kind of failure
//! gives, so scripts can tell "you typed it wrong" from "the server said no" from
//! "the server broke" from "there is no server".

use std::fmt;

/// Exit codes of the client commands (also listed in `cutover --help` and docs/CLI.md).
pub mod exit {
    /// Something on this machine failed: the config file cannot be written, the
    /// answer was not what the API documents, standard output is closed.
    pub const LOCAL: u8 = 1;
    /// The command line was wrong or incomplete (also what clap uses for bad flags).
    pub const USAGE: u8 = 2;
    /// The server refused the request (an HTTP 4xx answer).
    pub const REFUSED: u8 = 3;
    /// The server failed (an HTTP 5xx answer).
    pub const SERVER: u8 = 4;
    /// The server could not be reached (connection refused, DNS, TLS, timeout).
    pub const UNREACHABLE: u8 = 5;
}

/// A failed client command: its kind decides the exit code, its message is the one
/// line printed after `cutover: `.
#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    message: String,
    /// The HTTP status, when the server answered.
    status: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Local,
    Usage,
    Refused,
    Server,
    Unreachable,
}

impl CliError {
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Kind::Local, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unreachable, message)
    }

    /// Something the client looked for on the server is not there (like a 404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }

    /// An HTTP error answer: 5xx is the server's failure, anything else a refusal.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        let kind = if status >= 500 {
            Kind::Server
        } else {
            Kind::Refused
        };
        Self {
            status: Some(status),
            ..Self::new(kind, message)
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.status
    }

    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Local => exit::LOCAL,
            Kind::Usage => exit::USAGE,
            Kind::Refused => exit::REFUSED,
            Kind::Server => exit::SERVER,
            Kind::Unreachable => exit::UNREACHABLE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the server or the OS put in the message.
        let line: String = self
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        f.write_str(&line)
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
