-- Roles and grants. Applied after dbt build (future grants cover what
-- later builds create). Account only: the emulator has no access control.
--
-- forecast_hub_loader   lands files: the stage, the raw tables, the pipes
-- forecast_hub_analyst  reads the tenant-isolated serving views
-- forecast_hub_api      reads those views and writes the hybrid tables

set database_name = current_database();
set warehouse_name = current_warehouse();

create role if not exists forecast_hub_loader;
create role if not exists forecast_hub_analyst;
create role if not exists forecast_hub_api;

grant role forecast_hub_loader to role sysadmin;
grant role forecast_hub_analyst to role sysadmin;
grant role forecast_hub_api to role sysadmin;

grant usage on database identifier($database_name) to role forecast_hub_loader;
grant usage on database identifier($database_name) to role forecast_hub_analyst;
grant usage on database identifier($database_name) to role forecast_hub_api;
grant usage on warehouse identifier($warehouse_name) to role forecast_hub_loader;
grant usage on warehouse identifier($warehouse_name) to role forecast_hub_analyst;
grant usage on warehouse identifier($warehouse_name) to role forecast_hub_api;

-- Loader: PUT to the stage, COPY into the raw tables, run the pipes.
grant usage on schema raw to role forecast_hub_loader;
grant usage on file format raw.silver_parquet to role forecast_hub_loader;
grant read, write on stage raw.silver_stage to role forecast_hub_loader;
grant select, insert on all tables in schema raw to role forecast_hub_loader;
grant select, insert on future tables in schema raw to role forecast_hub_loader;
grant monitor, operate on all pipes in schema raw to role forecast_hub_loader;

-- Analyst: the secure views only; each shows the tenants of the
-- analyst's roles (security.tenant_roles).
grant usage on schema serving_secure to role forecast_hub_analyst;
grant select on all views in schema serving_secure to role forecast_hub_analyst;
grant select on future views in schema serving_secure to role forecast_hub_analyst;

-- API: the same views, serving.v_forecast (which carries the row access
-- policy of tenant_isolation.sql; future grants cover the view dbt replaces
-- on every build), and the tables planners write through it. Map the role
-- to the tenants it serves in security.tenant_roles.
grant usage on schema serving_secure to role forecast_hub_api;
grant select on all views in schema serving_secure to role forecast_hub_api;
grant select on future views in schema serving_secure to role forecast_hub_api;
grant usage on schema serving to role forecast_hub_api;
grant select on all views in schema serving to role forecast_hub_api;
grant select on future views in schema serving to role forecast_hub_api;
grant usage on schema planning to role forecast_hub_api;
grant select, insert, update on all tables in schema planning to role forecast_hub_api;

-- API, the planning page (/skus, /history, /accuracy): the gold tables and
-- the hot-attributes seed it reads. These carry no row access policy (the
-- build itself reads them whole), so there tenant isolation rests on the
-- API binding the caller's tenant into every statement it runs.
grant usage on schema gold to role forecast_hub_api;
grant select on all tables in schema gold to role forecast_hub_api;
grant select on future tables in schema gold to role forecast_hub_api;
grant usage on schema seeds to role forecast_hub_api;
grant select on all tables in schema seeds to role forecast_hub_api;
grant select on future tables in schema seeds to role forecast_hub_api;
