//! The API's OpenAPI 3.1 document, served at `GET /api/openapi.json`.
//!
//! The document is made from the router itself: every route is registered with
//! `utoipa_axum::routes!` from its handler's `#[utoipa::path]`, which gives the path, the
//! method, the parameters, the request body and the answers, and the bodies' schemas come
//! from the `kith-shared` types the handlers use (feature `openapi`). A route cannot be served
//! without being described. [`finish`] then adds what every route shares: the bearer token
//! scheme, the refusals that come from the extractors and layers rather than from a handler,
//! and `/static`, which is a file service rather than a handler.

use super::AppState;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use kith_shared::api::ApiError;
use serde_json::{Map, Value};
use std::sync::LazyLock;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, ContentBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The name of the bearer token scheme that authenticated operations list.
pub const BEARER: &str = "bearer";

/// The tag of the file routes, which run outside the request timeout.
pub const FILES: &str = "files";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kith HTTP API",
        description = "Accounts, friends, groups, history and files of a Kith server. \
                       Realtime traffic is on the socket (docs/protocol.md). Every failure \
                       answers `{\"code\", \"message\"}` (`ApiError`).",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "health", description = "Whether the server and its database answer"),
        (name = "accounts", description = "Register, log in and out, one's own profile"),
        (name = "friends", description = "User search, friend requests, the friend list"),
        (name = "groups", description = "Groups, applications, invitations and roles"),
        (name = "conversations", description = "Conversation list, history, read cursors"),
        (name = "files", description = "Uploads, downloads, thumbnails, the emoji set"),
    )
)]
struct Base;

/// The router every documented route is added to.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Base::openapi()).routes(routes!(get_openapi))
}

/// The finished document of the routes in `routes`.
pub fn finish(mut doc: Document) -> Document {
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The token from `POST /api/login`"))
                .build(),
        ),
    );
    let mut schemas = vec![(ApiError::name().into_owned(), <ApiError as PartialSchema>::schema())];
    ApiError::schemas(&mut schemas);
    components.schemas.extend(schemas);
    doc.paths.paths.insert("/static/{path}".to_owned(), static_files());
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            add_shared_refusals(operation);
        }
    }
    doc
}

/// The document as JSON, made once.
pub fn json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let document = finish(super::routes().split_for_parts().1);
        let mut value = serde_json::to_value(document).expect("the document serialises to JSON");
        inline_primitives(&mut value);
        value.to_string()
    });
    &JSON
}

/// The shared crate's id aliases (`UserId = i64`) come out of utoipa as references to a
/// schema named `i64`: this puts the integer schema itself in their place.
fn inline_primitives(document: &mut Value) {
    const PRIMITIVES: [&str; 12] =
        ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "bool", "String"];
    let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return;
    };
    let primitives: Map<String, Value> = PRIMITIVES
        .iter()
        .filter_map(|name| schemas.remove(*name).map(|schema| ((*name).to_owned(), schema)))
        .collect();
    replace_references(document, &primitives);
}

fn replace_references(value: &mut Value, primitives: &Map<String, Value>) {
    match value {
        Value::Object(map) => {
            let primitive = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|target| target.strip_prefix("#/components/schemas/"))
                .and_then(|name| primitives.get(name))
                .and_then(Value::as_object);
            if let Some(schema) = primitive {
                map.remove("$ref");
                for (key, part) in schema {
                    map.entry(key.clone()).or_insert_with(|| part.clone());
                }
            }
            map.values_mut().for_each(|part| replace_references(part, primitives));
        }
        Value::Array(list) => list.iter_mut().for_each(|part| replace_references(part, primitives)),
        _ => {}
    }
}

/// The operations of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Adds the refusals an operation can get before or around its handler:
/// - a bearer token that is missing, wrong or revoked: 401 `unauthorized` (the `Caller`
///   extractor);
/// - a path parameter or query string that does not parse: 400 `malformed` (`Path`, `Query`);
/// - a JSON body that is not JSON (400), of the wrong shape (422), without
///   `Content-Type: application/json` (415) or over 64 KiB (413) (`Json`);
/// - over 30 s: 408 `timeout` (every route but the file routes);
/// - a failure of the server: 500 `internal`.
fn add_shared_refusals(operation: &mut Operation) {
    let authenticated = operation.security.as_ref().is_some_and(|list| !list.is_empty());
    let has_parameters = operation.parameters.as_ref().is_some_and(|list| {
        list.iter().any(
            |p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query)),
        )
    });
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| matches!(body, RefOr::T(body) if body.content.contains_key("application/json")));
    let files = operation.tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t == FILES));
    let mut add = |status: &str, what: &str| {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| refusal(what));
    };
    if authenticated {
        add("401", "no token, or one that is wrong or revoked (`unauthorized`)");
    }
    if has_parameters {
        add("400", "a path parameter or query value that does not parse or is out of range (`malformed`)");
    }
    if json_body {
        add("400", "a body that is not JSON (`malformed`)");
        add("413", "a body over 64 KiB (`payload_too_large`)");
        add("415", "a body without `Content-Type: application/json` (`unsupported_media`)");
        add("422", "JSON with missing or mistyped fields (`malformed`)");
    }
    if !files {
        add("408", "the request took over 30 s (`timeout`)");
    }
    add("500", "the server failed; the details are in its log (`internal`)");
}

/// A refusal: the API's error body.
pub fn refusal(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", json_of::<ApiError>())
        .build()
        .into()
}

/// Content of a JSON body of the schema `T`.
fn json_of<T: ToSchema>() -> Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name(T::name()))).build()
}

/// `GET /static/{path}`: `STATIC_DIR`, read only, through a file service rather than a
/// handler (so described here). The path may have several segments (`emoji/1f600.png`).
fn static_files() -> PathItem {
    let any = ContentBuilder::new().build();
    let operation = OperationBuilder::new()
        .tag("files")
        .operation_id(Some("get_static"))
        .summary(Some("A file of STATIC_DIR, with Last-Modified and ETag"))
        .parameter(
            ParameterBuilder::new()
                .name("path")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The file's path under STATIC_DIR, such as `emoji/1f600.png`"))
                .schema(Some(Schema::Object(
                    utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String).build(),
                ))),
        )
        .parameter(if_none_match())
        .response(
            "200",
            ResponseBuilder::new().description("the file, its type from its name").content("*/*", any),
        )
        .response("304", ResponseBuilder::new().description("`If-None-Match` names the file's ETag"))
        .response("404", refusal("no such file, or a path leaving STATIC_DIR (`not_found`)"))
        .build();
    PathItem::new(HttpMethod::Get, operation)
}

/// The optional `If-None-Match` request header.
pub fn if_none_match() -> ParameterBuilder {
    ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some("ETags the client has; a match answers 304"))
        .schema(Some(Schema::Object(
            utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String).build(),
        )))
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object)),
)]
async fn get_openapi() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json()).into_response()
}
