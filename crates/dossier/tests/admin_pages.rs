//! Users and API tokens managed on admin pages, through the API's use
//! cases; on SQLite and PostgreSQL.

mod common;

use axum::http::StatusCode;

/// The secret a page shows once, in its copy box.
fn shown_once(page: &str) -> String {
    page.split("id=\"secret\"").next().unwrap().rsplit("value=\"").next().unwrap().split('"').next().unwrap().to_owned()
}

both_backends!(an_admin_invites_a_user_who_sets_a_password_and_signs_in_then_changes_their_role_and_deactivates_them, |app| {
    // The test app's own user is the admin.
    let cookie = app.session("admin").await;
    let (status, page) = app.page(Some(&cookie), "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-user=\"admin@test.example\""), "{page}");

    let (status, _, page) = app.form(&cookie, "/users", &[("email", "not an email"), ("name", "Nia"), ("role", "office")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"admin-error\""), "{page}");
    let (status, _, page) = app.form(&cookie, "/users", &[("email", "nia@test.example"), ("name", "Nia New"), ("role", "office")]).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let link = shown_once(&page);
    assert!(link.starts_with("/invitation?token="), "{link}");
    assert!(page.contains("data-user=\"nia@test.example\"") && page.contains(">invited<"));

    // The invitee sets a password on the page the link opens, then signs in.
    let (status, form) = app.page(None, &link).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    let token = link.trim_start_matches("/invitation?token=");
    let (status, _, _) = app.form("", "/invitation", &[("token", token), ("password", "short")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, location, _) = app.form("", "/invitation", &[("token", token), ("password", "a long enough password")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/sign-in"), "{location}");
    let input = dossier_service::sessions::SignIn { email: "nia@test.example".into(), password: "a long enough password".into() };
    let client = dossier_service::sessions::Client { address: None, user_agent: None };
    assert!(dossier_service::sessions::sign_in(&app.db, input.clone(), client.clone()).await.is_ok());
    let (status, _, _) = app.form("", "/invitation", &[("token", token), ("password", "another long password")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invitation is used once");

    // A role change and a deactivation, each in the user's history.
    let (_, users) = app.get("/users").await;
    let nia = users.as_array().unwrap().iter().find(|u| u["email"] == "nia@test.example").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _, _) = app.form(&cookie, &format!("/users/{nia}/change"), &[("role", "finance")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = app.form(&cookie, &format!("/users/{nia}/change"), &[("active", "false")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, user) = app.get(&format!("/users/{nia}")).await;
    assert_eq!((user["role"].as_str(), user["active"].as_bool()), (Some("finance"), Some(false)));
    assert!(dossier_service::sessions::sign_in(&app.db, input, client).await.is_err(), "a deactivated user cannot sign in");
    let (status, history) = app.page(Some(&cookie), &format!("/users/{nia}/history")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(history.contains("History of Nia New") && history.contains("finance") && history.contains("deactivated"), "{history}");

    // Nobody changes their own role: the page offers no form for it, and the use case refuses.
    let (_, me) = app.get("/users").await;
    let admin = me.as_array().unwrap().iter().find(|u| u["email"] == "admin@test.example").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _, _) = app.form(&cookie, &format!("/users/{admin}/change"), &[("role", "fieldworker")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
});

both_backends!(a_user_makes_an_api_token_that_works_and_revokes_it, |app| {
    app.user("office").await;
    let cookie = app.session("office").await;
    let (status, page) = app.page(Some(&cookie), "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<h2>Users</h2>"), "an office user manages only their own tokens");
    let (status, _, page) = app.form(&cookie, "/tokens", &[("name", "Accounting sync")]).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = shown_once(&page);
    let (status, _) = app.call_as(Some(&token), axum::http::Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::OK, "the token works");
    let id = page.split("action=\"/tokens/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let (status, _, _) = app.form(&cookie, &format!("/tokens/{id}/revoke"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = app.call_as(Some(&token), axum::http::Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token opens nothing");
});
