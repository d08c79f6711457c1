//! `register`, `login`, `logout`, `whoami`.

use std::io::{BufRead, IsTerminal};

use serde_json::{json, Value};

use crate::{
    api::{check, Api, TokenPair},
    credentials::{self, Credentials},
    error::{CliError, CliResult},
    output::print,
};

/// Reads the password without echo, or one line from stdin.
fn read_password(from_stdin: bool) -> CliResult<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password("Password: ")?
    };
    if password.is_empty() {
        return Err(CliError::Other(anyhow::anyhow!(
            "an empty password was given"
        )));
    }
    Ok(password)
}

/// `clipwave register --email E`.
pub fn register(server: &str, email: &str, password_stdin: bool, json_mode: bool) -> CliResult<()> {
    let password = read_password(password_stdin)?;
    let api = Api::anonymous(server)?;
    let response = api
        .http()
        .post(api.url("/register"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .map_err(|e| api.network(e))?;
    let body: Value = check(response)?
        .json()
        .map_err(|e| CliError::Other(e.into()))?;
    print(json_mode, &body, || {
        format!("Account created for {email}. Now run `clipwave login --email {email}`.")
    });
    Ok(())
}

/// `clipwave login --email E`: keeps the token pair for later commands.
pub fn login(server: &str, email: &str, password_stdin: bool, json_mode: bool) -> CliResult<()> {
    let password = read_password(password_stdin)?;
    let api = Api::anonymous(server)?;
    let response = api
        .http()
        .post(api.url("/login"))
        .basic_auth(email, Some(&password))
        .send()
        .map_err(|e| api.network(e))?;
    let pair: TokenPair = check(response)?
        .json()
        .map_err(|e| CliError::Other(e.into()))?;
    credentials::save(&Credentials {
        server: api.server().to_string(),
        email: email.trim().to_lowercase(),
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
    })?;
    print(
        json_mode,
        &json!({ "signed_in": true, "email": email }),
        || format!("Signed in as {email}."),
    );
    Ok(())
}

/// `clipwave logout [--all]`.
pub fn logout(server: &str, all: bool, json_mode: bool) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let body = json!({ "all": all });
    let outcome = api.send(|http| Ok(http.post(format!("{server}/logout")).json(&body)));
    // Whatever the server said, this machine forgets the session.
    credentials::remove()?;
    match outcome {
        Ok(_) | Err(CliError::NotSignedIn(_)) => {
            let what = if all { "every session" } else { "this session" };
            print(
                json_mode,
                &json!({ "signed_out": true, "all": all }),
                || format!("Signed out ({what})."),
            );
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// `clipwave whoami`.
pub fn whoami(server: &str, json_mode: bool) -> CliResult<()> {
    let mut api = Api::signed_in(server)?;
    let url = api.url("/me");
    let me: Value = api
        .send(|http| Ok(http.get(&url)))?
        .json()
        .map_err(|e| CliError::Other(e.into()))?;
    print(json_mode, &me, || {
        format!(
            "{} ({}, user id {})",
            me["email"].as_str().unwrap_or("?"),
            me["role"].as_str().unwrap_or("?"),
            me["user_id"].as_str().unwrap_or("?")
        )
    });
    Ok(())
}
