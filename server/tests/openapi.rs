//! The OpenAPI document (`GET /api/openapi.json`) against the server that serves it: it is
//! OpenAPI 3.1 with the bearer scheme, every documented operation is served (never the
//! "no route" fallback, never 405) and asks for a token exactly when the server does, and
//! every route of the HTTP door is registered with its description. `scripts/api-check`
//! goes further with schemathesis.

mod common;

use common::{Backend, TestServer, code};
use kith_shared::api::limits;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_with_the_bearer_scheme() {
    let server = TestServer::start(Backend::Sqlite).await.expect("SQLite always runs");
    let res = server.http.get(format!("{}/api/openapi.json", server.base)).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers().get("content-type").expect("a content type").to_str().expect("text");
    assert_eq!(content_type, "application/json");
    let doc: Value = res.json().await.expect("JSON");

    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    // Ids are integers in place, not references to a schema named after a Rust type.
    let text = doc.to_string();
    assert!(!text.contains("#/components/schemas/i64"), "a reference to i64 is left");
    assert!(doc["components"]["schemas"]["i64"].is_null());
    assert_eq!(doc["components"]["schemas"]["UserProfile"]["properties"]["id"]["type"], "integer");
    // The bodies' schemas are the shared crate's types.
    for schema in
        ["ApiError", "ErrorCode", "UserProfile", "LoginResponse", "HistoryPage", "FileInfo", "Content"]
    {
        assert!(doc["components"]["schemas"][schema].is_object(), "no schema {schema}");
    }
    let me = &doc["paths"]["/api/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], Value::Array(vec![]), "{me}");
    assert_eq!(
        me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/UserProfile"
    );
    assert_eq!(
        me["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
    let register = &doc["paths"]["/api/register"]["post"];
    assert!(register.get("security").is_none(), "{register}");
    for status in ["201", "400", "409", "413", "415", "422"] {
        assert!(register["responses"][status].is_object(), "POST /api/register lacks {status}");
    }
    // The documented field limits are the server's.
    let schemas = &doc["components"]["schemas"];
    let length = |schema: &str, field: &str, bound: &str| {
        let value = &schemas[schema]["properties"][field][bound];
        value.as_u64().unwrap_or_else(|| panic!("{schema}.{field} has no {bound}")) as usize
    };
    assert_eq!(length("RegisterRequest", "username", "minLength"), limits::USERNAME_MIN);
    assert_eq!(length("RegisterRequest", "username", "maxLength"), limits::USERNAME_MAX);
    assert_eq!(length("RegisterRequest", "display_name", "maxLength"), limits::DISPLAY_NAME_MAX);
    assert_eq!(length("UpdateProfileRequest", "display_name", "maxLength"), limits::DISPLAY_NAME_MAX);
    assert_eq!(length("RegisterRequest", "password", "minLength"), limits::PASSWORD_MIN);
    assert_eq!(length("RegisterRequest", "password", "maxLength"), limits::PASSWORD_MAX);
    assert_eq!(length("ChangePasswordRequest", "new_password", "minLength"), limits::PASSWORD_MIN);
    assert_eq!(length("ChangePasswordRequest", "new_password", "maxLength"), limits::PASSWORD_MAX);
    assert_eq!(length("CreateGroupRequest", "name", "maxLength"), limits::GROUP_NAME_MAX);
    assert_eq!(length("UpdateGroupRequest", "name", "maxLength"), limits::GROUP_NAME_MAX);
    assert_eq!(length("CreateGroupRequest", "description", "maxLength"), limits::GROUP_DESCRIPTION_MAX);
    assert_eq!(length("UpdateGroupRequest", "description", "maxLength"), limits::GROUP_DESCRIPTION_MAX);
    assert_eq!(length("SendFriendRequest", "message", "maxLength"), limits::REQUEST_MESSAGE_MAX);
    assert_eq!(length("GroupRequestBody", "message", "maxLength"), limits::REQUEST_MESSAGE_MAX);
    let parameter = |path: &str, name: &str| {
        let list = doc["paths"][path]["get"]["parameters"].as_array().expect("parameters");
        list.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{path} has no {name}")).clone()
    };
    let limit = parameter("/api/users/search", "limit");
    assert_eq!(limit["schema"]["maximum"], limits::SEARCH_LIMIT_MAX, "{limit}");
    let limit = parameter("/api/conversations/{id}/messages", "limit");
    assert_eq!(limit["schema"]["maximum"], limits::HISTORY_LIMIT_MAX, "{limit}");
    // Found by schemathesis: an offset the server takes (a u32) was documented as an int32.
    let offset = parameter("/api/groups/search", "offset");
    assert_eq!(offset["schema"]["minimum"], 0, "{offset}");
    assert_eq!(offset["schema"]["maximum"], u32::MAX, "{offset}");

    let upload = &doc["paths"]["/api/files"]["post"];
    assert!(upload["requestBody"]["content"]["application/octet-stream"].is_object(), "{upload}");
    assert!(upload["responses"]["408"].is_null(), "the file routes have no request timeout");
    server.stop().await;
}

/// Every documented operation, called without a token and without a body: an operation that
/// lists the bearer scheme answers 401, any other does not, and none is unknown to the router.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_and_asks_for_a_token_as_documented() {
    let server = TestServer::start(Backend::Sqlite).await.expect("SQLite always runs");
    let (_, doc) = server.request(Method::GET, "/api/openapi.json", None, None).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 30, "only {} paths", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "1").replace("{user_id}", "2").replace("{path}", "nothing.txt");
        assert!(!concrete.contains('{'), "a parameter of {path} is not filled in");
        for (method, operation) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            if operation.get("responses").is_none() {
                continue;
            }
            operations += 1;
            let (status, body) = server.request(method.clone(), &concrete, None, None).await;
            let what = format!("{method} {concrete}: {status} {body}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(!message.starts_with("there is no route"), "{what}");
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
            let secured = operation["security"].as_array().is_some_and(|list| !list.is_empty());
            if secured {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                assert_eq!(code(&body), "unauthorized", "{what}");
            } else {
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}");
            }
            assert!(
                operation["responses"][status.as_str()].is_object(),
                "{method} {path} answered {status}, which it does not document"
            );
        }
    }
    assert!(operations >= 38, "only {operations} operations");
    server.stop().await;
}

/// The HTTP door adds routes only through `utoipa_axum::routes!`, which registers each with
/// its description, so no route can be served without being in the document. (`/static` is
/// a file service, described by hand in `http/openapi.rs` and called above.)
#[test]
fn every_route_of_the_http_door_is_registered_with_its_description() {
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut undocumented = Vec::new();
    for entry in std::fs::read_dir(&http).expect("src/http is readable") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains(".route(") || code.contains(".route_service(") {
                undocumented.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
            }
        }
    }
    assert!(undocumented.is_empty(), "routes added without a description:\n{}", undocumented.join("\n"));
}
