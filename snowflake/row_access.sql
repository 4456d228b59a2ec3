-- The row access policy of serving.v_forecast, the view the API reads. A
-- row is visible to a session holding a role mapped to its tenant
-- (security.tenant_roles): the API's role, forecast_hub_api, too, mapped to
-- the tenants it serves, so a query of the API that forgot its tenant still
-- sees no other tenant's rows; the API binds the caller's tenant into every
-- query besides. dbt attaches the policy to the view each time it builds it
-- (the post-hook of v_forecast, macros/snowflake/tenant_row_access.sql), so
-- the view exists without it only between those two statements.
-- Before the build: the post-hook needs the policy. Account only: the
-- emulator has no roles or policies.

create schema if not exists security;

-- One row per role and tenant it may read.
create table if not exists security.tenant_roles (
    role_name varchar not null,
    tenant_id varchar not null,
    primary key (role_name, tenant_id)
);

use schema security;

-- Noqa: SQLFluff reads the policy's signature as a function call (LT01),
-- and its argument as a column of the table in the subquery (RF03).
create row access policy if not exists tenant_rows as (  -- noqa: LT01
    row_tenant_id varchar
) returns boolean -> exists (
    select tenant_roles.role_name
    from security.tenant_roles as tenant_roles
    where
        tenant_roles.tenant_id = row_tenant_id  -- noqa: RF03
        and is_role_in_session(tenant_roles.role_name)
);
