//! `fermyon:spin/key-value@2.0.0`: granted labels only, the full API, and
//! data that survives a restart.

use crate::helpers::Fixture;

#[test]
fn a_component_opens_only_the_stores_it_was_granted() {
    let host = Fixture::new().start();

    assert_eq!(
        host.get("/granted?op=kv-open&label=default").1["ok"],
        "opened"
    );
    assert_eq!(
        host.get("/granted?op=kv-open&label=extra").1["ok"],
        "opened"
    );
    assert_eq!(
        host.get("/granted?op=kv-open&label=unlisted").1["err"],
        "access-denied"
    );
    assert_eq!(
        host.get("/loner?op=kv-open&label=default").1["err"],
        "access-denied"
    );
}

#[test]
fn set_get_exists_delete_and_keys_behave_like_spins_store() {
    let host = Fixture::new().start();
    let kv = |op: &str, extra: &str| {
        host.get(&format!("/granted?op={op}&label=default{extra}"))
            .1
    };

    assert_eq!(kv("kv-get", "&key=a")["ok"], serde_json::Value::Null);
    assert_eq!(kv("kv-exists", "&key=a")["ok"], false);
    kv("kv-set", "&key=a&value=one");
    kv("kv-set", "&key=b&value=two");
    kv("kv-set", "&key=a&value=uno");
    assert_eq!(kv("kv-get", "&key=a")["ok"], "uno");
    assert_eq!(kv("kv-exists", "&key=a")["ok"], true);
    assert_eq!(kv("kv-keys", "")["ok"], serde_json::json!(["a", "b"]));
    kv("kv-delete", "&key=a");
    assert_eq!(kv("kv-get", "&key=a")["ok"], serde_json::Value::Null);
    assert_eq!(kv("kv-keys", "")["ok"], serde_json::json!(["b"]));
}

#[test]
fn stores_with_different_labels_are_separate() {
    let host = Fixture::new().start();

    host.get("/granted?op=kv-set&label=default&key=k&value=in-default");

    assert_eq!(
        host.get("/granted?op=kv-get&label=extra&key=k").1["ok"],
        serde_json::Value::Null
    );
}

#[test]
fn values_survive_a_restart_of_the_host() {
    let fixture = Fixture::new();
    {
        let host = fixture.start();
        host.get("/granted?op=kv-set&label=extra&key=k&value=kept");
    }

    let host = fixture.start();

    assert_eq!(
        host.get("/granted?op=kv-get&label=extra&key=k").1["ok"],
        "kept"
    );
    assert!(fixture.dir.path().join("stores/extra.db").exists());
}
