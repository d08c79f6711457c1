//! Host bindings for Spin's `fermyon:spin@2.0.0` interfaces, generated from
//! the spin-sdk crate's WIT (see `build.rs`).

wasmtime::component::bindgen!({
    world: "clipwave:host/spin-host",
    path: "wit",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::key_value::OpenStore,
        "fermyon:spin/sqlite.connection": crate::sqlite::OpenDatabase,
    },
});
