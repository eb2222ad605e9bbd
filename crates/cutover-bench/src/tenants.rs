//! The cross-tenant row: small draft writes to other apps while one app takes
//! maximum-size draft writes. It measures what issue 12 calls "one tenant stalls every
//! tenant's writes": the small writes' latency, which should not depend on what
//! another tenant sends.

use std::sync::Arc;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client::{Conn, Req};
use crate::dataset::DataSet;
use crate::load::{ConnWork, Step, Workload};

/// The heavy app's augmentations, each rewritten whole by one heavy connection.
pub const HEAVY_CONNECTIONS: usize = 4;
/// Connections sending the measured small writes, each to an app of its own.
pub const LIGHT_CONNECTIONS: usize = 8;
/// Bytes of configuration in each heavy write: a body just under the 1 MiB default
/// request limit.
const HEAVY_CONFIG_BYTES: usize = 1_000_000;

pub const ROW: &str = "small draft write, another app taking 1 MB writes";
pub const BASELINE_ROW: &str = "small draft write, alone";

/// A heavy augmentation's body whose content differs with `turn`, so each write is a
/// real change of about 1 MB.
fn heavy_body(name: &str, turn: u64) -> Value {
    let text = format!("{turn:020}").repeat(HEAVY_CONFIG_BYTES / 20);
    json!({
        "name": name,
        "stages": [{"name": "s", "execution_mode": "sequential",
                    "steps": [{"name": "llm", "type": "inference",
                               "config": {"prompt": text}}]}]
    })
}

fn patch(path: String, body: &Value) -> Req {
    Req {
        method: Method::PATCH,
        ..Req::post(path, body)
    }
}

/// Where the row writes: the heavy app's augmentations and one small augmentation in
/// each light app.
pub struct CrossTenant {
    heavy: Vec<String>,
    light: Vec<String>,
}

impl CrossTenant {
    /// Creates the heavy app (in the first app's workspace) and one small augmentation
    /// in each of the first write apps.
    pub async fn prepare(conn: &mut Conn, data: &DataSet) -> Result<Self, String> {
        let first = &data.apps.first().ok_or("the data set has no apps")?.base;
        let workspace = first
            .rsplit_once("/apps/")
            .map(|(workspace, _)| workspace)
            .ok_or("an app path without /apps/")?;
        let app = conn
            .send(&Req::post(
                format!("{workspace}/apps"),
                &json!({"name": "cross-tenant-heavy"}),
            ))
            .await?
            .expect_json("create the heavy app")?;
        let heavy_base = format!(
            "{workspace}/apps/{}",
            app["app_id"].as_str().ok_or("no app_id")?
        );
        let mut heavy = Vec::with_capacity(HEAVY_CONNECTIONS);
        for index in 0..HEAVY_CONNECTIONS {
            let name = format!("heavy-{index}");
            let created = conn
                .send(&Req::post(
                    format!("{heavy_base}/augmentations"),
                    &heavy_body(&name, 0),
                ))
                .await?
                .expect_json("create a heavy augmentation")?;
            let id = created["augmentation_id"]
                .as_str()
                .ok_or("no augmentation_id")?;
            heavy.push(format!("{heavy_base}/augmentations/{id}"));
        }
        let mut light = Vec::with_capacity(LIGHT_CONNECTIONS);
        for app in data.apps[data.write.clone()].iter().take(LIGHT_CONNECTIONS) {
            let created = conn
                .send(&Req::post(
                    format!("{}/augmentations", app.base),
                    &json!({"name": "cross-tenant-light"}),
                ))
                .await?
                .expect_json("create a light augmentation")?;
            let id = created["augmentation_id"]
                .as_str()
                .ok_or("no augmentation_id")?;
            light.push(format!("{}/augmentations/{id}", app.base));
        }
        if light.is_empty() {
            return Err("the data set has no write apps".into());
        }
        Ok(Self { heavy, light })
    }

    pub fn connections(&self) -> usize {
        self.heavy.len() + self.light.len()
    }
}

impl Workload for CrossTenant {
    fn connection(&self, index: usize) -> Box<dyn ConnWork> {
        match self.heavy.get(index) {
            Some(path) => Box::new(HeavyConn::new(path, &format!("heavy-{index}"))),
            None => Box::new(LightConn {
                path: self.light[(index - self.heavy.len()) % self.light.len()].clone(),
                turn: 0,
            }),
        }
    }
}

/// Rewrites its 1 MB augmentation, unmeasured: it is the load, not the measure. It
/// alternates between two bodies built once, so each write is a real change and the
/// load generator spends its cores on sending, not on building megabytes of JSON
/// beside the measured connections.
struct HeavyConn {
    requests: [Req; 2],
    turn: usize,
}

impl HeavyConn {
    fn new(path: &str, name: &str) -> Self {
        let request = |turn| patch(path.to_owned(), &heavy_body(name, turn));
        Self {
            requests: [request(1), request(2)],
            turn: 0,
        }
    }
}

impl ConnWork for HeavyConn {
    fn next(&mut self) -> Step {
        self.turn += 1;
        Step {
            req: self.requests[self.turn % 2].clone(),
            expect: StatusCode::OK,
            measured: false,
        }
    }
}

/// Changes its small augmentation's description: the measured write.
struct LightConn {
    path: String,
    turn: u64,
}

impl ConnWork for LightConn {
    fn next(&mut self) -> Step {
        self.turn += 1;
        Step {
            req: patch(
                self.path.clone(),
                &json!({"description": format!("edit {}", self.turn)}),
            ),
            expect: StatusCode::OK,
            measured: true,
        }
    }
}

/// The same small writes with no heavy traffic, for the baseline row.
pub struct LightOnly(pub Arc<CrossTenant>);

impl Workload for LightOnly {
    fn connection(&self, index: usize) -> Box<dyn ConnWork> {
        let light = &self.0.light;
        Box::new(LightConn {
            path: light[index % light.len()].clone(),
            turn: 1_000_000,
        })
    }
}
