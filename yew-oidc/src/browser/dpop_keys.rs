//! The DPoP key pair (RFC 9449): a non-extractable ECDSA P-256 key made by WebCrypto, its signatures,
//! and its IndexedDB store.
//!
//! `generateKey` is called with `extractable: false`: the private key's bytes never exist in
//! JavaScript or wasm memory, and `exportKey` on it throws. The page can sign with it; a script that
//! copies the tokens out of storage gets nothing it can sign with. The public half is exported as a
//! JWK (public keys always are), for the proof header.
//!
//! A `CryptoKey` cannot go into `localStorage` (strings only), but IndexedDB stores it as an object
//! (structured clone keeps it non-extractable): that is where a key outlives a reload. Database
//! [`DB_NAME`], object store [`STORE`], one record per key under the array key
//! `[namespace, thumbprint]`: `{ private, public, jwk, created_at }` (`jwk`: the public JWK's JSON).
//!
//! Which key is used when, and when one is deleted, is the client's decision (`client.rs`); this file
//! only runs the primitives.

use super::crypto::subtle;
use super::error::{js_error, js_message, window, BrowserError};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CryptoKey, EcKeyGenParams, EcdsaParams, IdbDatabase, IdbFactory, IdbObjectStore,
    IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode, SubtleCrypto,
};

/// The IndexedDB database of DPoP keys (shared by every client of the origin; records are keyed by
/// the client's namespace).
pub const DB_NAME: &str = "oidc-renew-dpop";
/// Its one object store.
pub const STORE: &str = "keys";
const DB_VERSION: u32 = 1;

/// A DPoP key pair: the private key (a handle; its bytes are out of reach) and the public JWK.
#[derive(Clone)]
pub struct KeyPair {
    private: CryptoKey,
    public: CryptoKey,
    public_jwk: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}

fn member(object: &JsValue, name: &str) -> Result<JsValue, BrowserError> {
    Reflect::get(object, &JsValue::from_str(name)).map_err(js_error)
}

impl KeyPair {
    /// A new ECDSA P-256 key pair whose private key cannot be exported.
    pub async fn generate() -> Result<KeyPair, BrowserError> {
        let subtle = subtle()?;
        let usages = Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
        let promise = subtle
            .generate_key_with_object(&EcKeyGenParams::new("ECDSA", "P-256"), false, &usages)
            .map_err(js_error)?;
        let pair = JsFuture::from(promise).await.map_err(js_error)?;
        let private: CryptoKey = member(&pair, "privateKey")?
            .dyn_into()
            .map_err(|_| BrowserError::Js("generateKey gave no private key".to_owned()))?;
        let public: CryptoKey = member(&pair, "publicKey")?
            .dyn_into()
            .map_err(|_| BrowserError::Js("generateKey gave no public key".to_owned()))?;
        let public_jwk = export_public(&subtle, &public).await?;
        Ok(KeyPair {
            private,
            public,
            public_jwk,
        })
    }

    /// The public key as a JWK (JSON text), as `exportKey("jwk")` gives it.
    pub fn public_jwk(&self) -> &str {
        &self.public_jwk
    }

    /// Whether the private key can be exported (never, for a key made here).
    #[cfg(all(test, target_arch = "wasm32"))]
    pub fn extractable(&self) -> bool {
        self.private.extractable()
    }

    /// An ES256 signature of `data`: the raw 64-byte `r || s` (JWS's form, WebCrypto's output).
    pub async fn sign(&self, data: &[u8]) -> Result<Vec<u8>, BrowserError> {
        // WebCrypto copies `data` when called: a view of wasm memory is safe across the await.
        let promise = subtle()?
            .sign_with_object_and_u8_array(
                &EcdsaParams::new_with_str("ECDSA", "SHA-256"),
                &self.private,
                data,
            )
            .map_err(js_error)?;
        let signature = JsFuture::from(promise).await.map_err(js_error)?;
        Ok(Uint8Array::new(&signature).to_vec())
    }
}

async fn export_public(subtle: &SubtleCrypto, public: &CryptoKey) -> Result<String, BrowserError> {
    let promise = subtle.export_key("jwk", public).map_err(js_error)?;
    let jwk = JsFuture::from(promise).await.map_err(js_error)?;
    js_sys::JSON::stringify(&jwk)
        .map(String::from)
        .map_err(js_error)
}

/// Settles when `request` succeeds (its `result`) or fails (its `error`). The browser's own
/// `resolve` and `reject` are the handlers: no Rust closure to keep alive.
async fn settle(request: &IdbRequest) -> Result<JsValue, BrowserError> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let settled = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match settled {
        Ok(_) => request.result().map_err(js_error),
        Err(_) => Err(BrowserError::Js(match request.error() {
            Ok(Some(error)) => format!("IndexedDB: {}: {}", error.name(), error.message()),
            _ => "IndexedDB request failed".to_owned(),
        })),
    }
}

/// Listens, from now on, for a read-write transaction to commit (a request's success is not yet
/// durable); await [`committed`] with it once every request is made.
fn on_commit(transaction: &IdbTransaction) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
        transaction.set_onabort(Some(&reject));
    }))
}

async fn committed(transaction: &IdbTransaction, commit: JsFuture) -> Result<(), BrowserError> {
    let settled = commit.await;
    transaction.set_oncomplete(None);
    transaction.set_onerror(None);
    transaction.set_onabort(None);
    settled.map(|_| ()).map_err(|_| {
        BrowserError::Js(match transaction.error() {
            Some(error) => format!("IndexedDB: {}: {}", error.name(), error.message()),
            None => "IndexedDB transaction aborted".to_owned(),
        })
    })
}

/// The open database, created on first use.
async fn open() -> Result<IdbDatabase, BrowserError> {
    // Missing, or throwing (a sandboxed frame, storage disabled): unavailable, as a storage area.
    let factory: IdbFactory = window()?
        .indexed_db()
        .ok()
        .flatten()
        .ok_or(BrowserError::StorageUnavailable("IndexedDB"))?;
    let request: IdbOpenDbRequest = factory
        .open_with_u32(DB_NAME, DB_VERSION)
        .map_err(|_| BrowserError::StorageUnavailable("IndexedDB"))?;
    // Runs before `success` when the database is new (or older): creates the store.
    let upgrade_failed = Rc::new(RefCell::new(None::<String>));
    let upgrade = {
        let (request, failed) = (request.clone(), upgrade_failed.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
            let created = request
                .result()
                .and_then(|db| db.dyn_into::<IdbDatabase>())
                .and_then(|db| {
                    if db.object_store_names().contains(STORE) {
                        Ok(())
                    } else {
                        db.create_object_store(STORE).map(|_| ())
                    }
                });
            if let Err(error) = created {
                *failed.borrow_mut() = Some(js_message(&error));
            }
        })
    };
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = settle(&request).await;
    request.set_onupgradeneeded(None);
    drop(upgrade);
    if let Some(why) = upgrade_failed.borrow_mut().take() {
        return Err(BrowserError::Js(format!("IndexedDB upgrade: {why}")));
    }
    opened?
        .dyn_into::<IdbDatabase>()
        .map_err(|_| BrowserError::Js("IndexedDB open gave no database".to_owned()))
}

fn store(
    db: &IdbDatabase,
    mode: IdbTransactionMode,
) -> Result<(IdbTransaction, IdbObjectStore), BrowserError> {
    let transaction = db
        .transaction_with_str_and_mode(STORE, mode)
        .map_err(js_error)?;
    let store = transaction.object_store(STORE).map_err(js_error)?;
    Ok((transaction, store))
}

fn record_key(namespace: &str, thumbprint: &str) -> JsValue {
    Array::of2(
        &JsValue::from_str(namespace),
        &JsValue::from_str(thumbprint),
    )
    .into()
}

/// Keeps `pair` under `namespace` and `thumbprint` (replacing a record with that key).
pub async fn save(
    namespace: &str,
    thumbprint: &str,
    pair: &KeyPair,
    created_at_ms: u64,
) -> Result<(), BrowserError> {
    let db = open().await?;
    let record = Object::new();
    for (name, value) in [
        ("private", JsValue::from(pair.private.clone())),
        ("public", JsValue::from(pair.public.clone())),
        ("jwk", JsValue::from_str(&pair.public_jwk)),
        ("created_at", JsValue::from_f64(created_at_ms as f64)),
    ] {
        Reflect::set(&record, &JsValue::from_str(name), &value).map_err(js_error)?;
    }
    let (transaction, store) = store(&db, IdbTransactionMode::Readwrite)?;
    let commit = on_commit(&transaction);
    let put = store.put_with_key(&record, &record_key(namespace, thumbprint));
    let done = match put {
        Ok(_) => committed(&transaction, commit).await,
        Err(error) => Err(js_error(error)),
    };
    db.close();
    done
}

/// The key pair kept under `namespace` and `thumbprint`, if any. A record that is not one of ours
/// (another script's) reads as none.
pub async fn load(namespace: &str, thumbprint: &str) -> Result<Option<KeyPair>, BrowserError> {
    let db = open().await?;
    let (_, store) = store(&db, IdbTransactionMode::Readonly)?;
    let request = store
        .get(&record_key(namespace, thumbprint))
        .map_err(js_error)?;
    let record = settle(&request).await;
    db.close();
    let record = record?;
    if record.is_undefined() || record.is_null() {
        return Ok(None);
    }
    let private = member(&record, "private")?.dyn_into::<CryptoKey>().ok();
    let public = member(&record, "public")?.dyn_into::<CryptoKey>().ok();
    let public_jwk = member(&record, "jwk")?.as_string();
    Ok(match (private, public, public_jwk) {
        (Some(private), Some(public), Some(public_jwk)) => Some(KeyPair {
            private,
            public,
            public_jwk,
        }),
        _ => None,
    })
}

/// Deletes the keys kept under `namespace`: the one of `thumbprint`, or every one but `keep`'s when
/// `thumbprint` is `None`.
pub async fn delete(
    namespace: &str,
    thumbprint: Option<&str>,
    keep: Option<&str>,
) -> Result<(), BrowserError> {
    let doomed: Vec<String> = match thumbprint {
        Some(thumbprint) => vec![thumbprint.to_owned()],
        None => thumbprints(namespace)
            .await?
            .into_iter()
            .filter(|thumbprint| Some(thumbprint.as_str()) != keep)
            .collect(),
    };
    if doomed.is_empty() {
        return Ok(());
    }
    let db = open().await?;
    let (transaction, store) = store(&db, IdbTransactionMode::Readwrite)?;
    let commit = on_commit(&transaction);
    // Every request is made before the first await: the transaction commits when they are done.
    let requested = doomed
        .iter()
        .try_for_each(|thumbprint| store.delete(&record_key(namespace, thumbprint)).map(|_| ()));
    let done = match requested {
        Ok(()) => committed(&transaction, commit).await,
        Err(error) => Err(js_error(error)),
    };
    db.close();
    done
}

/// The thumbprints of the keys kept under `namespace` (for tests and the setup doctor).
pub async fn thumbprints(namespace: &str) -> Result<Vec<String>, BrowserError> {
    let db = open().await?;
    let (_, store) = store(&db, IdbTransactionMode::Readonly)?;
    let keys = settle(&store.get_all_keys().map_err(js_error)?).await;
    db.close();
    Ok(Array::from(&keys?)
        .iter()
        .map(|key| Array::from(&key))
        .filter(|key| key.get(0).as_string().as_deref() == Some(namespace))
        .filter_map(|key| key.get(1).as_string())
        .collect())
}
