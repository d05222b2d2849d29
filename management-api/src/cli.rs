//! The command line: serving, `resync`, and the `admin` commands operators use before anyone
//! holds an admin key (a fresh install they did not watch start, a lost key).

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::connect_database;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::entity::user;
use crate::users::{self, NewUser};

/// `management-api`: the API, the embedded redirector and the stats worker.
#[derive(Debug, Parser)]
#[command(name = "management-api", version)]
pub struct Cli {
    /// What to do; serving when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Rebuild every record in Redis from SQL.
    Resync,
    /// Operator commands on the database of DATABASE_URL.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `management-api admin ...`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account and print its API key (shown only this once).
    CreateUser {
        /// Letters and digits.
        #[arg(long)]
        username: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// At least 5 characters; generated and printed when absent. Prefer the environment
        /// variable to keep it out of shell history.
        #[arg(long, env = "OML_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Register an OAuth application and print its client id and secret (shown only once).
    CreateOauthApp {
        /// The name people see on the consent page.
        #[arg(long)]
        name: String,
        /// The one redirect URI codes are sent to.
        #[arg(long)]
        redirect: String,
    },
    /// Subscribe an account to a plan.
    SetPlan {
        /// The account: its id, email or username.
        #[arg(long)]
        user: String,
        /// Plan id (see `GET /api/plans`).
        #[arg(long)]
        plan: i64,
        /// monthly, yearly or lifetime.
        #[arg(long, default_value = "lifetime")]
        term: String,
        /// When the subscription ends (`YYYY-MM-DD HH:MM:SS` or Unix seconds); the term's
        /// length from now when absent.
        #[arg(long)]
        expiration: Option<String>,
    },
}

/// Runs an `admin` command, printing what it did.
pub async fn run_admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let db = connect_database(&config.database_url).await?;
    let now = SystemClock.naive_now();
    match command {
        AdminCommand::CreateUser {
            username,
            email,
            password,
            admin,
        } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::generate_key()[..20].to_owned());
            let input = NewUser {
                username: Some(username),
                email: Some(email),
                password: Some(password.clone()),
                admin,
                ..Default::default()
            };
            let (model, key) = users::create(&db, input, now)
                .await
                .map_err(|err| anyhow::anyhow!(err.body().message.clone()))?;
            println!(
                "created user {} ({}), id {}",
                model.username, model.email, model.id
            );
            if generated {
                println!("password: {password}");
            }
            println!("API key (shown only this once): {key}");
        }
        AdminCommand::CreateOauthApp { name, redirect } => {
            let made = crate::oauth::create_app(&db, &name, &redirect, now)
                .await
                .map_err(|err| anyhow::anyhow!(err.body().message.clone()))?;
            println!(
                "created OAuth application {} (id {})",
                made.app.name, made.app.id
            );
            println!("client id: {}", made.app.client_id);
            println!("client secret (shown only this once): {}", made.secret);
        }
        AdminCommand::SetPlan {
            user,
            plan,
            term,
            expiration,
        } => {
            let target = find_user(&db, &user).await?;
            let expiration = expiration.map(|raw| match raw.trim().parse::<i64>() {
                Ok(secs) => serde_json::Value::from(secs),
                Err(_) => serde_json::Value::from(raw),
            });
            crate::plans::subscribe(
                &db,
                Some(plan),
                Some(target.id),
                Some(&term),
                expiration.as_ref(),
                now,
            )
            .await
            .map_err(|err| anyhow::anyhow!(err.body().message.clone()))?;
            println!("subscribed user {} to plan {plan} ({term})", target.id);
        }
    }
    Ok(())
}

/// The account `who` names: an id, an email address or a username.
async fn find_user(db: &sea_orm::DatabaseConnection, who: &str) -> anyhow::Result<user::Model> {
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
    let who = who.trim();
    let mut condition = Condition::any()
        .add(user::Column::Email.eq(who.to_lowercase()))
        .add(user::Column::Username.eq(who));
    if let Ok(id) = who.parse::<i64>() {
        condition = condition.add(user::Column::Id.eq(id));
    }
    user::Entity::find()
        .filter(condition)
        .one(db)
        .await?
        .with_context(|| format!("no user has the id, email or username {who:?}"))
}
