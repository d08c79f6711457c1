//! The `auth_users` table, and the first admin taken from variables.

use clipwave_http::ApiError;
use clipwave_token::Role;
use serde::Serialize;
use spin_sdk::sqlite::{QueryResult, Value};

use crate::{
    config,
    credentials::{hash_password, Email, Password},
    db::{int, text, Db},
};

/// A stored user. `password_hash` is never serialised.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Random UUID.
    #[serde(rename = "user_id")]
    pub id: String,
    /// Normalised e-mail.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Unix seconds.
    pub created_at: u64,
    /// The Argon2id PHC string.
    #[serde(skip)]
    pub password_hash: String,
}

const COLUMNS: &str = "id, email, role, created_at, password_hash";

fn users(result: &QueryResult) -> Vec<User> {
    result
        .rows
        .iter()
        .filter_map(|row| {
            Some(User {
                id: row.get::<&str>(0)?.to_owned(),
                email: row.get::<&str>(1)?.to_owned(),
                role: Role::parse(row.get::<&str>(2)?)?,
                created_at: row.get::<u64>(3)?,
                password_hash: row.get::<&str>(4)?.to_owned(),
            })
        })
        .collect()
}

/// The user with this e-mail.
pub fn by_email(db: &Db, email: &Email) -> Result<Option<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM auth_users WHERE email = ?");
    Ok(users(&db.run(&sql, &[text(email.as_str())])?).pop())
}

/// The user with this id.
pub fn by_id(db: &Db, id: &str) -> Result<Option<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM auth_users WHERE id = ?");
    Ok(users(&db.run(&sql, &[text(id)])?).pop())
}

/// All users, oldest first (bounded).
pub fn list(db: &Db) -> Result<Vec<User>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM auth_users ORDER BY created_at, email LIMIT 1000");
    Ok(users(&db.run(&sql, &[])?))
}

/// Creates a user; `Ok(None)` when the e-mail is taken.
pub fn insert(
    db: &Db,
    email: &Email,
    password_hash: &str,
    role: Role,
    now: u64,
) -> Result<Option<String>, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    db.run(
        "INSERT INTO auth_users (id, email, password_hash, role, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
        &[
            text(&id),
            text(email.as_str()),
            text(password_hash),
            text(role.as_str()),
            int(now),
            int(now),
        ],
    )?;
    // Whoever's id is stored under the e-mail won a concurrent insert.
    Ok(by_email(db, email)?
        .filter(|user| user.id == id)
        .map(|user| user.id))
}

/// Sets a user's role.
pub fn set_role(db: &Db, id: &str, role: Role, now: u64) -> Result<(), ApiError> {
    db.run(
        "UPDATE auth_users SET role = ?, updated_at = ? WHERE id = ?",
        &[text(role.as_str()), int(now), text(id)],
    )
    .map(drop)
}

/// Sets a user's password hash.
pub fn set_password_hash(db: &Db, id: &str, hash: &str, now: u64) -> Result<(), ApiError> {
    db.run(
        "UPDATE auth_users SET password_hash = ?, updated_at = ? WHERE id = ?",
        &[text(hash), int(now), text(id)],
    )
    .map(drop)
}

/// Deletes a user row.
pub fn delete(db: &Db, id: &str) -> Result<(), ApiError> {
    db.run(
        "DELETE FROM auth_users WHERE id = ?",
        &[Value::Text(id.to_owned())],
    )
    .map(drop)
}

/// Creates the admin named by `admin_email` if no user has that e-mail yet,
/// with `admin_password_hash` or else a hash of `admin_password`. Nothing
/// happens when `admin_email` is empty; an existing account is left as is.
pub fn ensure_admin(db: &Db, now: u64) -> Result<(), ApiError> {
    let Some(raw) = config::optional("admin_email")? else {
        return Ok(());
    };
    let Some(email) = Email::parse(&raw) else {
        eprintln!("auth: admin_email is not a valid e-mail; no admin created");
        return Ok(());
    };
    if by_email(db, &email)?.is_some() {
        return Ok(());
    }
    let hash = if let Some(hash) = config::optional("admin_password_hash")? {
        hash.trim().to_owned()
    } else if let Some(password) = config::optional("admin_password")?.and_then(Password::parse) {
        hash_password(&password).map_err(|error| {
            eprintln!("auth: hashing the admin password: {error:#}");
            ApiError::internal()
        })?
    } else {
        eprintln!(
            "auth: admin_email is set but neither admin_password_hash nor a valid admin_password"
        );
        return Ok(());
    };
    insert(db, &email, &hash, Role::Admin, now)?;
    Ok(())
}
