//! (tests only) A tracing layer that records each event's message and the
//! `request_id` of the span it was logged in, to check that logs name their request.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// An event's message and the `request_id` of the span it was logged in.
pub(crate) type Logged = (String, Option<String>);

#[derive(Clone, Default)]
pub(crate) struct Seen(Arc<Mutex<Vec<Logged>>>);

struct RequestIdOf(String);

#[derive(Default)]
struct Fields(Option<String>, Option<String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "request_id" => self.0 = Some(format!("{value:?}")),
            "message" => self.1 = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Seen {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if let (Some(span), Some(request_id)) = (context.span(id), fields.0) {
            span.extensions_mut().insert(RequestIdOf(request_id));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, context: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let request_id = context.event_scope(event).and_then(|scope| {
            scope.from_root().find_map(|span| {
                span.extensions()
                    .get::<RequestIdOf>()
                    .map(|id| id.0.clone())
            })
        });
        let message = fields.1.unwrap_or_default();
        self.0.lock().unwrap().push((message, request_id));
    }
}

impl Seen {
    /// Makes this the thread's subscriber until the guard drops.
    pub(crate) fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(Registry::default().with(self.clone()))
    }

    /// What was logged so far.
    pub(crate) fn events(&self) -> Vec<Logged> {
        self.0.lock().unwrap().clone()
    }
}
