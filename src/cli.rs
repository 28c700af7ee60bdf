//! The `buko` command line: serve, migrate, and operator tasks.

use clap::{Parser, Subcommand};

use crate::app::{migrate_settings, Application, NodeRole};
use crate::config::Settings;
use crate::db::{self, models, repo};

#[derive(Parser, Debug)]
#[command(name = "buko", version, about = "Buko: an AI book studio")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server and the job workers on the configured storage.
    Serve(ServeArgs),
    /// Run only the job workers (no web pages; health checks answer on BUKO_BIND).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a whole book headless from an idea and save it (format from the file extension).
    Generate(crate::generate::GenerateArgs),
    /// Operator tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check this node's deployment: one verdict per line, non-zero exit on any failure.
    Doctor(crate::ops::doctor::DoctorArgs),
    /// Write a consistent backup of the database (SQLite: online `VACUUM INTO`; PostgreSQL: pg_dump).
    Backup(crate::ops::backup::BackupArgs),
    /// Replace the SQLite database with a backup (stop the node first).
    Restore(crate::ops::backup::RestoreArgs),
    /// A local server speaking the Anthropic streaming protocol, with adjustable speed and fault
    /// injection, for tests, load and chaos runs, and trying a deployment without spending money.
    FakeLlm {
        #[arg(long, default_value_t = 8089)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[command(flatten)]
        options: crate::llm::FakeLlmOptions,
    },
}

#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Serve the web only; leave book writing to `buko worker` nodes.
    #[arg(long)]
    pub no_worker: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a user (an admin with --admin).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        admin: bool,
    },
    /// Create an API key for a user and print it (it is shown only this once).
    CreateApiKey {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    crate::telemetry::init_logging();
    // The fake provider needs none of the app's settings (no database, no key).
    let command = match cli.command {
        Command::FakeLlm {
            port,
            host,
            options,
        } => {
            let listener = std::net::TcpListener::bind((host.as_str(), port))?;
            log::info!(target: "buko::fake_llm", port = listener.local_addr()?.port(); "fake Anthropic server listening");
            crate::llm::serve_fake_llm(options, listener).await?.await?;
            return Ok(());
        }
        other => other,
    };
    let settings = Settings::from_env()?;
    match command {
        Command::Serve(args) => {
            let role = if args.no_worker {
                NodeRole::WebOnly
            } else {
                NodeRole::WebAndWorkers
            };
            let app = Application::build_with(settings, role).await?;
            app.run_until_signalled().await?;
        }
        Command::Worker => {
            let app = Application::build_with(settings, NodeRole::WorkersOnly).await?;
            app.run_until_signalled().await?;
        }
        Command::Generate(args) => crate::generate::generate(settings, args).await?,
        Command::Migrate => {
            let applied = migrate_settings(&settings).await?;
            println!("migrations applied: {applied}");
        }
        Command::Admin(cmd) => admin(settings, cmd).await?,
        Command::Doctor(args) => {
            if !crate::ops::doctor::run(&settings, &args).await {
                std::process::exit(1);
            }
        }
        Command::Backup(args) => println!("{}", crate::ops::backup::backup(&settings, &args)?),
        Command::Restore(args) => println!("{}", crate::ops::backup::restore(&settings, &args)?),
        Command::FakeLlm { .. } => {}
    }
    Ok(())
}

async fn admin(settings: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir)?;
    migrate_settings(&settings).await?;
    let pool = db::build_app_pool(settings.database_url.expose(), 2, &settings.ops)?;
    match cmd {
        AdminCommand::CreateUser {
            email,
            password,
            admin,
        } => {
            anyhow::ensure!(
                crate::web::auth::valid_email(&email),
                "not a valid e-mail address: {email}"
            );
            anyhow::ensure!(
                crate::web::auth::strong_enough(&password, &email),
                "the password needs at least 10 characters and must not be the e-mail"
            );
            let hash = crate::accounts::hash_password(password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let role = if admin {
                models::ROLE_ADMIN
            } else {
                models::ROLE_USER
            };
            let user = db::run(&pool, move |c| {
                repo::users::create(
                    c,
                    repo::users::NewUser {
                        email: &email,
                        password_hash: hash,
                        role,
                        locale: None,
                    },
                )
            })
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    anyhow::anyhow!("a user with this e-mail exists")
                } else {
                    e.into()
                }
            })?;
            println!("created {} user {} ({})", user.role, user.email, user.id);
        }
        AdminCommand::CreateApiKey { email, name } => {
            let (key, row) = db::run(&pool, move |c| {
                let user = repo::users::find_by_email(c, &email)?
                    .ok_or_else(crate::db::DbError::not_found)?;
                repo::api_keys::create(c, &user.id, &name)
            })
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    anyhow::anyhow!("no user with this e-mail")
                } else {
                    e.into()
                }
            })?;
            println!("{}", key.expose());
            eprintln!("API key {} created; it will not be shown again", row.prefix);
        }
    }
    Ok(())
}
