//! The "someone tried to register with your address" notice: registration answers the same whether or
//! not the e-mail has an account (so it reveals nothing), and the owner learns of the attempt here.

use crate::db::{self, repo, DbPool};
use crate::queue::JobOutcome;

use super::MailError;

/// Runs one `account_exists_email` job.
pub async fn run(
    mail: &super::MailSettings,
    data_dir: &std::path::Path,
    pool: &DbPool,
    user_id: &str,
) -> JobOutcome {
    let id = user_id.to_string();
    let user = match db::run(pool, move |c| repo::users::find(c, &id)).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return JobOutcome::Failed {
                error: format!("user {user_id} no longer exists"),
            }
        }
        Err(e) => {
            return JobOutcome::Retry {
                after: None,
                error: e.to_string(),
            }
        }
    };
    let spanish = user.locale.as_deref() == Some("es");
    match send(mail, data_dir, &user.email, spanish).await {
        Ok(delivery) => {
            log::info!(target: "buko::email", via = format!("{delivery:?}").as_str(); "account-exists e-mail sent");
            JobOutcome::Done
        }
        Err(e @ MailError::Address(_)) => JobOutcome::Failed {
            error: e.to_string(),
        },
        Err(e) => JobOutcome::Retry {
            after: None,
            error: e.to_string(),
        },
    }
}

async fn send(
    mail: &super::MailSettings,
    data_dir: &std::path::Path,
    to: &str,
    spanish: bool,
) -> Result<super::Delivery, MailError> {
    let login = format!("{}/login", mail.public_url);
    let (subject, body) = if spanish {
        (
            "Alguien intentó registrarse con tu dirección".to_string(),
            format!(
                "¡Hola!\n\nAlguien intentó crear una cuenta de Buko con esta dirección, que ya tiene una.\n\
                 Si fuiste tú, inicia sesión aquí:\n\n{login}\n\nSi no, puedes ignorar este mensaje.\n\n— Buko\n"
            ),
        )
    } else {
        (
            "Someone tried to register with your address".to_string(),
            format!(
                "Hello!\n\nSomeone tried to create a Buko account with this address, which already has one.\n\
                 If it was you, sign in here:\n\n{login}\n\nIf not, you can ignore this message.\n\n— Buko\n"
            ),
        )
    };
    super::send_text(mail, data_dir, to, subject, body).await
}
