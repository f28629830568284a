//! `/api/v1` for delegated children, publishers and remote parents: the
//! operations of `anchorage child|publisher|parent`, with the same roles
//! and audit as the rest of the API.
//!
//! Children are issued to by a CA, so they follow that CA's scope: an
//! admin, or a CA operator whose scope holds the parent CA, may add,
//! change and remove them; read-only tokens see them. Publishers and
//! remote parents concern the whole instance: admins only; read-only
//! tokens may list them (a token limited to some CAs: no publishers,
//! and only its CAs' remote parents).

use super::*;
use crate::model::{AddChild, AddParent, AddPublisher, UpdateChild};

/// The routes of this module.
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/children", get(list_children))
        .route("/api/v1/cas/{handle}/children", post(add_child))
        .route(
            "/api/v1/children/{handle}",
            axum::routing::patch(update_child).delete(remove_child),
        )
        .route(
            "/api/v1/publishers",
            get(list_publishers).post(add_publisher),
        )
        .route("/api/v1/publishers/{handle}", delete(remove_publisher))
        .route("/api/v1/parents", get(list_parents).post(add_parent))
        .route("/api/v1/parents/{handle}", delete(remove_parent))
        .route("/api/v1/parents/{handle}/sync", post(sync_parent))
        .route(
            "/api/v1/repository",
            get(show_repository).delete(remove_repository),
        )
}

fn resources(s: &str) -> Result<ResourceSet, Problem> {
    s.parse()
        .map_err(|e| Problem::invalid(format!("resources: {e}")).field("resources"))
}

/// The parent CA of delegated child `handle`, if the caller sees it;
/// otherwise "unknown child", like a missing one.
fn child_parent(a: &mut Anchorage, p: &Principal, handle: &str) -> Result<String, AppError> {
    let unknown = || AppError::UnknownPeer {
        kind: "child",
        handle: handle.into(),
    };
    let parent = a
        .list_children()?
        .into_iter()
        .find(|c| c.handle == handle)
        .map(|c| c.parent)
        .ok_or_else(unknown)?;
    authorise(a, p, &parent, false).map_err(|_| unknown())?;
    Ok(parent)
}

/// The entries of `all` whose CA (`ca` of each) the principal sees.
fn visible<T>(a: &mut Anchorage, p: &Principal, all: Vec<T>, ca: impl Fn(&T) -> &str) -> Vec<T> {
    all.into_iter()
        .filter(|t| p.token.cas.is_empty() || authorise(a, p, ca(t), false).is_ok())
        .collect()
}

async fn list_children(Caller(state, p): Caller) -> Result<Response, Problem> {
    let children = engine(&state, move |a| {
        let all = a.list_children()?;
        Ok(visible(a, &p, all, |c| &c.parent))
    })
    .await?;
    Ok(Json(children).into_response())
}

async fn add_child(
    Caller(state, p): Caller,
    Path(parent): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin, Role::CaOperator])?;
    let req: AddChild = parse_body(&bytes)?;
    let res = resources(&req.resources)?;
    let who = p.clone();
    let (response, _) = change(&state, &p, move |a, actor| {
        authorise(a, &who, &parent, false)?;
        a.add_child(
            actor,
            &parent,
            req.request.as_bytes(),
            res,
            req.service_uri.as_deref(),
        )
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "handle": response.child_handle().as_str(),
            "parent_response": response.to_xml_string(),
        })),
    )
        .into_response())
}

async fn update_child(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin, Role::CaOperator])?;
    let req: UpdateChild = parse_body(&bytes)?;
    let res = resources(&req.resources)?;
    let who = p.clone();
    change(&state, &p, move |a, actor| {
        child_parent(a, &who, &handle)?;
        a.update_child(actor, &handle, res)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_child(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::CaOperator])?;
    let who = p.clone();
    change(&state, &p, move |a, actor| {
        child_parent(a, &who, &handle)?;
        a.remove_child(actor, &handle)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_publishers(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::ReadOnly])?;
    // The repository's publishers belong to no CA: a token limited to
    // some CAs does not see them.
    if !p.token.cas.is_empty() {
        return Err(Problem::forbidden(
            "the repository's publishers are visible to tokens without a CA scope only",
        ));
    }
    let list = engine(&state, |a| a.list_publishers()).await?;
    Ok(Json(list).into_response())
}

async fn add_publisher(Caller(state, p): Caller, req: Request) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin])?;
    let req: AddPublisher = parse_body(&bytes)?;
    let (response, _) = change(&state, &p, move |a, actor| {
        a.add_publisher(actor, req.request.as_bytes(), req.service_uri.as_deref())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "handle": response.publisher_handle().as_str(),
            "repository_response": response.to_xml_string(),
        })),
    )
        .into_response())
}

async fn remove_publisher(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    change(&state, &p, move |a, actor| {
        a.remove_publisher(actor, &handle)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_parents(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::ReadOnly])?;
    // A scoped token sees the remote parents of its CAs only.
    let list = engine(&state, move |a| {
        let all = a.list_parents()?;
        Ok(visible(a, &p, all, |parent| &parent.ca))
    })
    .await?;
    Ok(Json(list).into_response())
}

async fn add_parent(Caller(state, p): Caller, req: Request) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin])?;
    let req: AddParent = parse_body(&bytes)?;
    let handle = req.handle.clone();
    change(&state, &p, move |a, actor| {
        a.add_parent(actor, &req.handle, req.response.as_bytes())
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "handle": handle })),
    )
        .into_response())
}

async fn sync_parent(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    let report = change(&state, &p, move |a, actor| a.sync_parent(actor, &handle)).await?;
    Ok(Json(report).into_response())
}

async fn remove_parent(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    change(&state, &p, move |a, actor| a.remove_parent(actor, &handle)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn show_repository(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::ReadOnly])?;
    match engine(&state, |a| a.repository()).await? {
        Some(info) => Ok(Json(info).into_response()),
        None => Err(Problem::not_found("no remote repository")),
    }
}

async fn remove_repository(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    change(&state, &p, |a, actor| a.remove_repository(actor)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
