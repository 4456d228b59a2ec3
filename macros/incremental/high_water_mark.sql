{#-
    The incremental models of the sales history carry when each row's
    inputs last landed (last_loaded_at) and which build wrote it
    (built_at). A run reads the rows whose inputs landed after the
    table's high-water mark: the latest last_loaded_at it holds. An empty
    table's mark is before any landing, so its next run reads everything.
-#}
{% macro high_water_mark(column_name='last_loaded_at') -%}
    (
        select
            coalesce(
                max(this_run.{{ column_name }}),
                cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
            ) as high_water_mark
        from {{ this }} as this_run
    )
{%- endmacro %}


{#-
    A pre-hook of the models at a tenant's grain (the roll-up to periods
    and the series): on an incremental run, delete the rows of every
    tenant whose grain is no longer the one they were built at, so the
    run builds that tenant again from scratch. (A change of grain in the
    tenant_settings seed changes every period of the tenant.)
-#}
{% macro delete_rows_of_regrained_tenants() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where tenant_id in (
            select built.tenant_id
            from (
                select distinct
                    tenant_id,
                    grain
                from {{ this }}
            ) as built
            left join {{ ref('int_tenants_configured') }} as tenants
                on built.tenant_id = tenants.tenant_id
            where
                tenants.grain is null
                or tenants.grain != built.grain
        )
    {%- endif -%}
{%- endmacro %}
