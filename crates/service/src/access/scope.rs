//! What of the org a caller may see, beyond what the permission matrix
//! decides per module: a fieldworker reaches only the jobs assigned to them
//! and the customers those jobs are for (with their contacts and sites), and
//! every timeline shows only entries about modules the caller may view.
//!
//! A record outside the caller's scope answers 404, as if it did not exist.

use dossier_domain::activity::EntityType;
use dossier_domain::permissions::{Module, module_of};
use dossier_store::queries as q;
use dossier_store::{Handle, TimelineFilter};
use uuid::Uuid;

use crate::{Ctx, Result, ServiceError};

/// 404 `what` unless the caller may see the customer.
pub(crate) async fn check_customer(h: &mut Handle<'_>, ctx: &Ctx, customer_id: Uuid, what: &'static str) -> Result<()> {
    match ctx.assigned_only(Module::Customers) {
        Some(user) if !q::has_assigned_job(h, ctx.org.id.0, user, customer_id).await? => Err(ServiceError::NotFound(what)),
        _ => Ok(()),
    }
}

/// 404 unless the caller may see the job.
pub(crate) async fn check_job(h: &mut Handle<'_>, ctx: &Ctx, job_id: Uuid) -> Result<()> {
    match ctx.assigned_only(Module::Jobs) {
        Some(user) if !q::is_assigned(h, ctx.org.id.0, user, job_id).await? => Err(ServiceError::NotFound("job")),
        _ => Ok(()),
    }
}

/// Narrow a timeline query to the entries the caller may see.
pub(crate) fn timeline(ctx: &Ctx, filter: &mut TimelineFilter) {
    if EntityType::ALL.iter().any(|entity| !ctx.sees(module_of(*entity))) {
        filter.subjects = EntityType::ALL.iter().copied().filter(|entity| ctx.sees(module_of(*entity))).collect();
    }
    filter.jobs_assigned_to = ctx.assigned_only(Module::Jobs);
}
