//! Users: search by e-mail, change plan and role, disable / enable, log out everywhere, and see failed
//! logins and lockouts (with an unlock). An admin cannot remove the last active admin (their own role
//! or account), so the panel can never lock everyone out.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{audit, client_ip, ActionForm, RequireAdmin};
use crate::db::{self, models::User, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, PageCtx};

const SHOWN: i64 = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users/{id}/plan", web::post().to(set_plan))
        .route("/users/{id}/role", web::post().to(set_role))
        .route(
            "/users/{id}/{action:disable|enable|logout-everywhere|unlock}",
            web::post().to(act),
        );
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub struct UserRow {
    pub user: User,
    /// Hourly limits of the user's plan: (architectures, books).
    pub limits: (i32, i32),
    pub locked: bool,
    pub locked_until: String,
    pub ws_sessions: usize,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: PageCtx,
    q: String,
    rows: Vec<UserRow>,
    plans: Vec<String>,
    roles: [&'static str; 2],
}

async fn list(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q;
    let needle = q.clone();
    let (users, plans) = db::run(&state.db, move |c| {
        Ok((
            repo::admin::search_users(c, &needle, SHOWN)?,
            repo::plans::list(c, false)?,
        ))
    })
    .await?;
    let now = db::now();
    let rows = users
        .into_iter()
        .map(|user| UserRow {
            limits: plans
                .iter()
                .find(|p| p.id == user.plan)
                .map_or((0, 0), |p| (p.architectures_per_hour, p.books_per_hour)),
            locked: user.locked_until.is_some_and(|t| t > now),
            locked_until: user
                .locked_until
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            ws_sessions: state.ws_registry.sessions_of(&user.id),
            user,
        })
        .collect();
    html(
        StatusCode::OK,
        &UsersPage {
            page,
            q,
            rows,
            plans: plans.into_iter().map(|p| p.id).collect(),
            roles: repo::admin::ROLES,
        },
    )
}

#[derive(Deserialize)]
struct ValueForm {
    csrf_token: String,
    value: String,
}

impl CsrfProtected for ValueForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn target(state: &AppState, id: &str) -> Result<User, AppError> {
    let id = id.to_string();
    db::run(&state.db, move |c| repo::users::find(c, &id))
        .await?
        .ok_or(AppError::NotFound)
}

/// Refuses an action that would leave no active admin.
async fn keep_an_admin(state: &AppState, target: &User) -> Result<(), AppError> {
    if !target.is_admin() || target.disabled {
        return Ok(());
    }
    let id = target.id.clone();
    let others = db::run(&state.db, move |c| repo::admin::other_admins(c, &id)).await?;
    if others == 0 {
        return Err(AppError::Conflict("this is the last active admin".into()));
    }
    Ok(())
}

fn back() -> HttpResponse {
    see_other("/admin/users")
}

async fn set_plan(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<ValueForm>,
) -> Result<HttpResponse, AppError> {
    let user = target(&state, &id).await?;
    crate::billing::plan::admin_set_plan(
        &state.db,
        &admin,
        &user.id,
        &form.value,
        &client_ip(&req),
    )
    .await?;
    Ok(back())
}

async fn set_role(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<ValueForm>,
) -> Result<HttpResponse, AppError> {
    if !repo::admin::ROLES.contains(&form.value.as_str()) {
        return Err(AppError::Validation(format!(
            "unknown role {:?}",
            form.value
        )));
    }
    let user = target(&state, &id).await?;
    if user.role == form.value {
        return Ok(back());
    }
    keep_an_admin(&state, &user).await?;
    let (uid, role) = (user.id.clone(), form.value.clone());
    db::run(&state.db, move |c| repo::admin::set_role(c, &uid, &role)).await?;
    state.sessions.forget_user(&user.id);
    let detail = json!({"email": user.email, "from": user.role, "to": form.value});
    audit(
        &state,
        &admin,
        &req,
        "user.role",
        ("user", user.id.to_string()),
        detail,
    )
    .await?;
    // The new role applies from the next sign-in; live sockets opened under the old one close too.
    crate::admin::control::disconnect_user(&state, &user.id).await;
    Ok(back())
}

async fn act(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    _form: CsrfForm<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let user = target(&state, &id).await?;
    let uid = user.id.clone();
    let name = match action.as_str() {
        "disable" => {
            keep_an_admin(&state, &user).await?;
            db::run(&state.db, move |c| repo::users::set_disabled(c, &uid, true)).await?;
            crate::sessions::end_all(&state, &user.id).await?;
            "user.disable"
        }
        "enable" => {
            db::run(&state.db, move |c| {
                repo::users::set_disabled(c, &uid, false)
            })
            .await?;
            "user.enable"
        }
        "logout-everywhere" => {
            crate::sessions::end_all(&state, &uid).await?;
            "user.logout_everywhere"
        }
        "unlock" => {
            db::run(&state.db, move |c| repo::admin::unlock(c, &uid)).await?;
            "user.unlock"
        }
        _ => return Err(AppError::NotFound),
    };
    let detail = json!({"email": user.email, "failed_logins": user.failed_logins});
    audit(&state, &admin, &req, name, ("user", user.id.into()), detail).await?;
    Ok(back())
}
