//! Files in the staff app: the Files tab, the upload form on the profile,
//! on record pages and with a message, opening a file, deleting one.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dossier_domain::file::{StoredFile, size_text};
use dossier_domain::message::RecordType;
use dossier_domain::permissions::{Access, Action, Module};
use dossier_service::files::{self, AttachTo, FileQuery};
use dossier_service::{Ctx, Db, ServiceError, customers};
use serde::Deserialize;

use crate::AppState;
use crate::ui::forms::{Field, FormPage, Section, Values, again, back_to};
use crate::ui::nav::Viewer;
use crate::ui::views::day;
use crate::ui::{Staff, failure};

/// One file as staff see it in a list or under a message.
pub struct FileView {
    pub name: String,
    pub size: String,
    /// Opens it (a picture or PDF in the browser; anything else downloads).
    pub href: String,
    /// A picture: shown small (from this address), opening full size.
    pub thumbnail: Option<String>,
    pub kind: &'static str,
    /// The record it is on, and that record's page.
    pub record: Option<(String, String)>,
    pub for_customer: bool,
    pub uploaded: String,
    pub deleted: Option<String>,
    pub can_delete: bool,
    pub delete: String,
    pub back: String,
}

impl FileView {
    pub fn of(ctx: &Ctx, file: &StoredFile, back: &str) -> Self {
        FileView {
            name: file.name.clone(),
            size: size_text(file.size),
            href: format!("/files/{}", file.id),
            thumbnail: file.media_type.is_image().then(|| match file.thumbnail_sha256 {
                Some(_) => format!("/files/{}/thumbnail", file.id),
                None => format!("/files/{}", file.id),
            }),
            kind: match file.media_type {
                t if t.is_image() => "Photo",
                dossier_domain::file::MediaType::Pdf => "PDF",
                _ => "File",
            },
            record: file.record.as_ref().and_then(|r| {
                let code = r.code.clone()?;
                let page = crate::ui::records::page_of(r.kind).map(|kind| format!("/{kind}/{code}")).unwrap_or_default();
                Some((code, page))
            }),
            for_customer: file.visibility == dossier_domain::activity::Visibility::Customer,
            uploaded: format!("{} · {}", file.uploaded_by.name, day(&ctx.org, file.created_at)),
            deleted: file.deleted.as_ref().map(|d| format!("Deleted by {} at {}", d.by, day(&ctx.org, d.at))),
            can_delete: file.deleted.is_none() && files::may_delete(ctx, file),
            delete: format!("/files/{}/delete", file.id),
            back: back.to_owned(),
        }
    }
}

/// The upload form on a page, if the caller may add files there.
pub struct Uploader {
    pub action: String,
    pub back: String,
    pub record: Option<(&'static str, String)>,
    /// Offer to share the files with the customer (on an invoice).
    pub can_share: bool,
}

/// The upload form for a customer's page, or a record's (`record`).
pub fn uploader(ctx: &Ctx, customer_code: &str, record: Option<(RecordType, String)>, back: &str) -> Option<Uploader> {
    if ctx.access(Module::Files, Action::Create) == Access::None {
        return None;
    }
    // A fieldworker adds files only to their jobs.
    if ctx.assigned_only(Module::Files).is_some() && record.as_ref().is_none_or(|(kind, _)| *kind != RecordType::Job) {
        return None;
    }
    Some(Uploader {
        action: format!("/customers/{customer_code}/files"),
        back: back.to_owned(),
        can_share: record.as_ref().is_some_and(|(kind, _)| *kind == RecordType::Invoice),
        record: record.map(|(kind, code)| (kind.as_str(), code)),
    })
}

/// The Files tab's query.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilesTab {
    pub record: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
}

/// The Files tab: every file of the customer, newest first, filterable by
/// record and by words of the name.
pub async fn files_tab(db: &Db, ctx: &Ctx, code: &str, query: FilesTab) -> Result<(Vec<FileView>, Option<String>, Vec<(String, String)>), ServiceError> {
    let record = crate::ui::forms::blank_is_none(query.record.clone());
    let search = crate::ui::forms::blank_is_none(query.q.clone());
    // A record is named by its code; its kind comes from the code's prefix.
    let record_type = record.as_deref().and_then(|code| RecordType::of_code(code, |kind| ctx.org.prefix(kind)));
    let list = FileQuery {
        record_type: record.as_ref().map(|_| record_type.unwrap_or(RecordType::Job)),
        record: record.clone(),
        q: search.clone(),
        cursor: query.cursor.clone(),
        limit: Some(60),
    };
    let found = files::list_files(db, ctx, code, list).await?;
    let mut here = format!("/customers/{code}?tab=files");
    for (name, value) in [("record", &record), ("q", &search)] {
        if let Some(value) = value {
            here.push_str(&format!("&{name}={}", crate::ui::sign_in::encode(value)));
        }
    }
    let views = found.items.iter().map(|f| FileView::of(ctx, f, &here)).collect();
    let next = found.next_cursor.map(|c| format!("{here}&cursor={c}"));
    let filters = [("record".to_owned(), record.unwrap_or_default()), ("q".to_owned(), search.unwrap_or_default())].into();
    Ok((views, next, filters))
}

/// The upload form on a page of its own: without JavaScript from a record
/// page's link, and again with the error beside the field after a refusal.
fn upload_form(ctx: &Ctx, customer_code: &str, values: &Values) -> FormPage {
    let back = back_to(values, &format!("/customers/{customer_code}?tab=files"));
    let mut fields = vec![
        Field::new("file", "Files", "file").required().hint("Photos, PDFs and documents; up to 10 at once"),
        Field::new("record_type", "", "hidden"),
        Field::new("record", "", "hidden"),
        Field::new("back", "", "hidden").value(back.clone()),
    ];
    if values.get("record_type").is_some_and(|t| t == "invoice") {
        fields.insert(1, Field::new("visibility", "Share them with the customer on this invoice (in their portal)", "checkbox"));
    }
    FormPage {
        user: Some(Viewer::of(ctx)),
        title: "Add files".into(),
        back,
        back_label: "Back".into(),
        action: format!("/customers/{customer_code}/files"),
        submit: "Upload",
        sections: vec![Section { legend: String::new(), fields }],
        general: Vec::new(),
    }
}

pub async fn new_upload(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(values): Query<Values>) -> Response {
    match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(customer) => {
            let mut form = upload_form(&ctx, &customer.code, &values);
            for field in form.sections.iter_mut().flat_map(|s| s.fields.iter_mut()).filter(|f| f.name.starts_with("record")) {
                field.value = values.get(&field.name).cloned().unwrap_or_default();
            }
            form.show(StatusCode::OK)
        }
        Err(e) => failure(e),
    }
}

/// Receive files from a form (the embedded one or the page above): all are
/// kept, or none and the form comes back with the reason by the field.
pub async fn upload(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, request: Request) -> Response {
    let customer = match customers::get_customer(&s.db, &ctx, &id).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let received = match crate::uploads::receive(&s.files, request).await {
        Ok(received) => received,
        Err(e) => return again(upload_form(&ctx, &customer.code, &Values::new()), &Values::new(), upload_error(e), field_of),
    };
    let values: Values = received.fields.iter().cloned().collect();
    let to = AttachTo {
        record_type: crate::ui::forms::value(&values, "record_type").and_then(|t| RecordType::parse(&t)),
        record: crate::ui::forms::value(&values, "record"),
        message_id: None,
        visibility: values.get("visibility").filter(|v| *v == "on").map(|_| dossier_domain::activity::Visibility::Customer),
    };
    let back = back_to(&values, &format!("/customers/{}?tab=files", customer.code));
    match files::attach(&s.db, &s.files, &ctx, &customer.code, to, received.uploads).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => again(upload_form(&ctx, &customer.code, &values), &values, upload_error(e), field_of),
    }
}

/// A file too large is shown by the field like any other refusal.
pub(super) fn upload_error(error: ServiceError) -> ServiceError {
    match error {
        ServiceError::TooLarge { .. } => dossier_domain::ValidationErrors::one("file", "file_too_large", error.to_string()).into(),
        e => e,
    }
}

/// `file[2]` is about the file field.
pub(super) fn field_of(field: &str) -> String {
    if field.starts_with("file") { "file".to_owned() } else { field.to_owned() }
}

#[derive(Deserialize)]
pub struct Open {
    download: Option<String>,
}

/// A picture's thumbnail.
pub async fn thumbnail(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>) -> Response {
    match files::open_thumbnail(&s.db, &s.files, &ctx, &id).await {
        Ok((file, content)) => crate::downloads::file_response(&file, content, false),
        Err(e) => failure(e),
    }
}

/// A file's content, for a signed-in member of staff who may see it.
pub async fn open(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, Query(open): Query<Open>) -> Response {
    match files::open_file(&s.db, &s.files, &ctx, &id).await {
        Ok((file, content)) => crate::downloads::file_response(&file, content, open.download.is_some()),
        Err(e) => failure(e),
    }
}

pub async fn delete(State(s): State<AppState>, Staff(ctx): Staff, Path(id): Path<String>, axum::Form(values): axum::Form<Values>) -> Response {
    let file = match files::delete_file(&s.db, &ctx, &id).await {
        Ok(file) => file,
        Err(e) => return failure(e),
    };
    let default = match customers::get_customer(&s.db, &ctx, &file.customer_id.to_string()).await {
        Ok(c) => format!("/customers/{}?tab=files", c.code),
        Err(_) => "/customers".to_owned(),
    };
    Redirect::to(&back_to(&values, &default)).into_response()
}
