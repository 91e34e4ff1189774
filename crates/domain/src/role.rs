//! Staff roles. What each may do is decided in the service layer.

use crate::customer::string_enum;

string_enum!(
    /// A user's role within their org.
    Role {
        Owner = "owner",
        Admin = "admin",
        Office = "office",
        Finance = "finance",
        Sales = "sales",
        Support = "support",
        Fieldworker = "fieldworker",
    }
);
