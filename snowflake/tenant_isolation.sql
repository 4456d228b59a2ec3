-- Tenant isolation on the serving objects. People read the secure views of
-- schema serving_secure; each keeps the rows of the tenants mapped to a role
-- active in the session (security.tenant_roles, created with the row access
-- policy by row_access.sql before the build). A role with no mapping sees no
-- rows. The API reads serving.v_forecast, which carries that policy. Secure
-- views hide their definition and are never rewritten by dbt, which replaces
-- the objects underneath on every build; re-applying this file after a build
-- is harmless.
-- Account only: the emulator has no role hierarchy to test against.

create schema if not exists security;

-- One row per role and tenant it may read.
create table if not exists security.tenant_roles (
    role_name varchar not null,
    tenant_id varchar not null,
    primary key (role_name, tenant_id)
);

create schema if not exists serving_secure;

create or replace secure view serving_secure.v_forecast as
select v_forecast.*
from serving.v_forecast as v_forecast
where exists (
        select tenant_roles.role_name
        from security.tenant_roles as tenant_roles
        where
            tenant_roles.tenant_id = v_forecast.tenant_id
            and is_role_in_session(tenant_roles.role_name)
    );

create or replace secure view serving_secure.forecast_draft as
select fct_forecast_draft.*
from gold.fct_forecast_draft as fct_forecast_draft
where exists (
        select tenant_roles.role_name
        from security.tenant_roles as tenant_roles
        where
            tenant_roles.tenant_id = fct_forecast_draft.tenant_id
            and is_role_in_session(tenant_roles.role_name)
    );

create or replace secure view serving_secure.forecast_accuracy as
select fct_forecast_accuracy.*
from gold.fct_forecast_accuracy as fct_forecast_accuracy
where exists (
        select tenant_roles.role_name
        from security.tenant_roles as tenant_roles
        where
            tenant_roles.tenant_id = fct_forecast_accuracy.tenant_id
            and is_role_in_session(tenant_roles.role_name)
    );
