//! The draft every app gets: realistic augmentations (pipelines) and endpoints.

use serde_json::{Value, json};

/// A two-stage pipeline: retrieval in parallel, then a model call and a memory write.
pub fn augmentation_body(i: u32) -> Value {
    json!({
        "name": format!("pipeline-{i:03}"),
        "description": format!("Answers order questions with retrieval and a model call (variant {i})."),
        "tags": ["support", format!("team-{}", i % 4)],
        "stages": [
            {"name": "retrieve", "execution_mode": "parallel", "steps": [
                {"name": "search-docs", "type": "source_query",
                 "config": {"source": "help-center", "top_k": 8, "filters": {"lang": "en"}},
                 "timeout_seconds": 10, "max_retries": 2},
                {"name": "recall", "type": "memory_query",
                 "config": {"scope": "thread", "limit": 20}, "timeout_seconds": 5},
            ]},
            {"name": "respond", "execution_mode": "sequential", "steps": [
                {"name": "answer", "type": "inference",
                 "config": {"model": "small", "temperature": 0.2, "max_tokens": 800,
                            "system": "You are a concise, friendly support agent."},
                 "timeout_seconds": 60, "max_retries": 1},
                {"name": "remember", "type": "memory_update", "config": {"scope": "thread"}},
            ]},
        ],
    })
}

pub fn endpoint_body(j: u32, augmentation_id: &str) -> Value {
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    const TYPES: [&str; 3] = ["sync", "async", "stream"];
    json!({
        "name": format!("endpoint-{j:03}"),
        "path": format!("/api/v1/orders/resource-{j}"),
        "method": METHODS[j as usize % METHODS.len()],
        "augmentation_id": augmentation_id,
        "endpoint_type": TYPES[j as usize % TYPES.len()],
        "description": format!("Order operation {j}, answered by its pipeline."),
        "input_schema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 2000},
                "customer_id": {"type": "string"},
            },
            "required": ["query"],
        },
    })
}
