//! "My jobs": a fieldworker's day on a phone — what is overdue, what is on
//! today, what comes next — each job with its customer, its place and a
//! button to call.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dossier_domain::works::Job;
use dossier_service::{Ctx, Db, ServiceError, customers, sites, works};

use super::views::words;
use super::{Staff, failure, page};
use crate::AppState;
use crate::ui::nav::Viewer;

/// One job as a row of the day.
struct JobRowView {
    code: String,
    title: String,
    when: String,
    status: String,
    customer: String,
    place: Option<String>,
    phone: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/my_jobs.html")]
struct MyJobsPage {
    user: Option<Viewer>,
    sections: Vec<(&'static str, Vec<JobRowView>)>,
    more: bool,
}

/// The window in the org's time zone: "Mon 7 Dec 09:00–11:00".
pub(super) fn when(ctx: &Ctx, job: &Job) -> String {
    let zone = ctx.org.zone();
    match (job.scheduled_start, job.scheduled_end) {
        (Some(start), Some(end)) => {
            let (start, end) = (start.to_zoned(zone.clone()), end.to_zoned(zone));
            let end_format = if start.date() == end.date() { "%H:%M" } else { "%a %-d %b %H:%M" };
            format!("{}–{}", start.strftime("%a %-d %b %H:%M"), end.strftime(end_format))
        }
        _ => "not scheduled".to_owned(),
    }
}

async fn rows(db: &Db, ctx: &Ctx, jobs: Vec<Job>, names: &mut HashMap<String, (String, Option<String>)>) -> Result<Vec<JobRowView>, ServiceError> {
    let mut rows = Vec::with_capacity(jobs.len());
    for job in jobs {
        let key = job.customer_id.0.to_string();
        if !names.contains_key(&key) {
            let customer = customers::get_customer(db, ctx, &key).await?;
            names.insert(key.clone(), (customer.display_name, customer.profile.phone.map(|p| p.to_string())));
        }
        let (customer, phone) = names[&key].clone();
        let place = match job.site_id {
            Some(site) => Some(sites::get_site(db, ctx, &site.0.to_string()).await?.profile.one_line()),
            None => None,
        };
        rows.push(JobRowView { when: when(ctx, &job), status: words(job.status.as_str()), code: job.code, title: job.title, customer, place, phone });
    }
    Ok(rows)
}

pub async fn my_jobs(State(s): State<AppState>, Staff(ctx): Staff) -> Response {
    let built = async {
        let plan = works::my_jobs(&s.db, &ctx).await?;
        let mut names = HashMap::new();
        let sections = vec![
            ("Overdue", rows(&s.db, &ctx, plan.overdue, &mut names).await?),
            ("Today", rows(&s.db, &ctx, plan.today, &mut names).await?),
            ("Next", rows(&s.db, &ctx, plan.next, &mut names).await?),
        ];
        Ok::<_, ServiceError>(MyJobsPage { user: Some(Viewer::of(&ctx)), sections, more: plan.more })
    };
    match built.await {
        Ok(page_data) => page(StatusCode::OK, &page_data),
        Err(e) => failure(e),
    }
}
