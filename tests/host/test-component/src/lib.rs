//! A test-only component: every Spin interface clipwave-host provides,
//! reachable over HTTP so conformance tests can assert Spin's behaviour.
//! See README.md for the operations.

use std::collections::BTreeMap;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use spin_sdk::{
    http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam},
    http_component, key_value, sqlite, variables,
};

#[http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let query = request
        .path_with_query()
        .and_then(|p| p.split_once('?').map(|(_, q)| q.to_string()))
        .unwrap_or_default();
    let params: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect();
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let op = param("op");

    match op.as_str() {
        "echo" => return echo(request, response_out).await,
        "stream" => {
            let chunks = param("chunks").parse().unwrap_or(1);
            let size = param("size").parse().unwrap_or(1);
            return stream(chunks, size, response_out).await;
        }
        _ => {}
    }

    let result: Result<Value, String> = match op.as_str() {
        "whoami" => Ok(whoami(&request)),
        "kv-open" => key_value::Store::open(&param("label"))
            .map(|_| json!("opened"))
            .map_err(kv_error),
        "kv-set" => with_store(&param("label"), |s| {
            s.set(&param("key"), param("value").as_bytes())
                .map(|()| json!(null))
        }),
        "kv-get" => with_store(&param("label"), |s| {
            s.get(&param("key"))
                .map(|v| json!(v.map(|b| String::from_utf8_lossy(&b).into_owned())))
        }),
        "kv-delete" => with_store(&param("label"), |s| {
            s.delete(&param("key")).map(|()| json!(null))
        }),
        "kv-exists" => with_store(&param("label"), |s| {
            s.exists(&param("key")).map(|e| json!(e))
        }),
        "kv-keys" => with_store(&param("label"), |s| {
            s.get_keys().map(|mut keys| {
                keys.sort();
                json!(keys)
            })
        }),
        "sqlite-open" => sqlite::Connection::open(&param("label"))
            .map(|_| json!("opened"))
            .map_err(sqlite_error),
        "sqlite-exec" => sqlite_exec(&param("label"), request).await,
        "var" => variables::get(&param("name"))
            .map(|v| json!(v))
            .map_err(|e| variable_error(&e)),
        "env" => std::env::var(param("name"))
            .map(|v| json!(v))
            .map_err(|e| e.to_string()),
        "outbound" => outbound(&param("url")).await,
        "log" => {
            println!("{}", param("text"));
            eprintln!("{}", param("text"));
            Ok(json!(null))
        }
        other => Err(format!("unknown op {other:?}")),
    };
    let (status, body) = match result {
        Ok(value) => (200, json!({ "ok": value })),
        Err(error) => (500, json!({ "err": error })),
    };
    respond(response_out, status, body.to_string().into_bytes()).await;
}

fn whoami(request: &IncomingRequest) -> Value {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in request.headers().entries() {
        headers
            .entry(name)
            .or_default()
            .push(String::from_utf8_lossy(&value).into_owned());
    }
    json!({
        "name": variables::get("name").unwrap_or_default(),
        "headers": headers,
    })
}

fn with_store(
    label: &str,
    f: impl FnOnce(&key_value::Store) -> Result<Value, key_value::Error>,
) -> Result<Value, String> {
    let store = key_value::Store::open(label).map_err(kv_error)?;
    f(&store).map_err(kv_error)
}

async fn sqlite_exec(label: &str, request: IncomingRequest) -> Result<Value, String> {
    let body = request.into_body().await.map_err(|e| e.to_string())?;
    let input: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let sql = input["sql"].as_str().unwrap_or_default();
    let params: Vec<sqlite::Value> = input["params"]
        .as_array()
        .map(|values| values.iter().map(to_sqlite).collect())
        .unwrap_or_default();
    let connection = sqlite::Connection::open(label).map_err(sqlite_error)?;
    let result = connection.execute(sql, &params).map_err(sqlite_error)?;
    let rows: Vec<Value> = result
        .rows
        .iter()
        .map(|row| Value::Array(row.values.iter().map(from_sqlite).collect()))
        .collect();
    Ok(json!({ "columns": result.columns, "rows": rows }))
}

/// JSON → SQLite: `{"blob": "text"}` is a blob, numbers with a fraction are reals.
fn to_sqlite(value: &Value) -> sqlite::Value {
    match value {
        Value::Null => sqlite::Value::Null,
        Value::Number(n) if n.is_i64() => sqlite::Value::Integer(n.as_i64().unwrap_or_default()),
        Value::Number(n) => sqlite::Value::Real(n.as_f64().unwrap_or_default()),
        Value::String(s) => sqlite::Value::Text(s.clone()),
        Value::Object(o) => sqlite::Value::Blob(
            o.get("blob")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
        ),
        other => sqlite::Value::Text(other.to_string()),
    }
}

/// SQLite → JSON, keeping the type visible: `{"integer": 1}` etc.
fn from_sqlite(value: &sqlite::Value) -> Value {
    match value {
        sqlite::Value::Integer(i) => json!({ "integer": i }),
        sqlite::Value::Real(r) => json!({ "real": r }),
        sqlite::Value::Text(t) => json!({ "text": t }),
        sqlite::Value::Blob(b) => json!({ "blob": String::from_utf8_lossy(b) }),
        sqlite::Value::Null => json!("null"),
    }
}

async fn outbound(url: &str) -> Result<Value, String> {
    let request = spin_sdk::http::Request::get(url).build();
    let response: spin_sdk::http::Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "status": response.status(),
        "body": String::from_utf8_lossy(response.body()),
    }))
}

async fn echo(request: IncomingRequest, response_out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let mut body = response.take_body();
    response_out.set(response);
    let mut incoming = request.into_body_stream();
    while let Some(Ok(chunk)) = incoming.next().await {
        if body.send(chunk).await.is_err() {
            return;
        }
    }
}

async fn stream(chunks: usize, size: usize, response_out: ResponseOutparam) {
    let response = OutgoingResponse::new(Fields::new());
    let mut body = response.take_body();
    response_out.set(response);
    for _ in 0..chunks {
        if body.send(vec![b'x'; size]).await.is_err() {
            return;
        }
    }
}

async fn respond(response_out: ResponseOutparam, status: u16, body: Vec<u8>) {
    let headers = Fields::from_list(&[("content-type".to_string(), b"application/json".to_vec())])
        .unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let _ = response_out.set_with_body(response, body).await;
}

fn kv_error(error: key_value::Error) -> String {
    match error {
        key_value::Error::StoreTableFull => "store-table-full".into(),
        key_value::Error::NoSuchStore => "no-such-store".into(),
        key_value::Error::AccessDenied => "access-denied".into(),
        key_value::Error::Other(message) => format!("other: {message}"),
    }
}

fn sqlite_error(error: sqlite::Error) -> String {
    match error {
        sqlite::Error::NoSuchDatabase => "no-such-database".into(),
        sqlite::Error::AccessDenied => "access-denied".into(),
        sqlite::Error::InvalidConnection => "invalid-connection".into(),
        sqlite::Error::DatabaseFull => "database-full".into(),
        sqlite::Error::Io(message) => format!("io: {message}"),
    }
}

fn variable_error(error: &variables::Error) -> String {
    match error {
        variables::Error::InvalidName(_) => "invalid-name".into(),
        variables::Error::Undefined(_) => "undefined".into(),
        variables::Error::Provider(_) => "provider".into(),
        variables::Error::Other(_) => "other".into(),
    }
}

/// Percent-decoding for the few characters tests put in query values.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
