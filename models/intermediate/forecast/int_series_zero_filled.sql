with

sales_periods as (
    select * from {{ ref('int_sales_rolled_up_to_periods') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

-- A series runs from the first period with a sales row up to T, the
-- tenant's last complete period; later, incomplete periods are left out.
series_bounds as (
    select
        sales_periods.tenant_id,
        sales_periods.sku_id,
        tenants.grain,
        tenants.history_end_period_start,
        min(sales_periods.period_start) as first_period_start
    from sales_periods
    inner join tenants
        on sales_periods.tenant_id = tenants.tenant_id
    where sales_periods.period_start <= tenants.history_end_period_start
    group by
        sales_periods.tenant_id,
        sales_periods.sku_id,
        tenants.grain,
        tenants.history_end_period_start
),

series_lengths as (
    select
        *,
        {{ periods_between(
            'grain', 'first_period_start', 'history_end_period_start'
        ) }} as last_period_offset
    from series_bounds
),

series_offsets as (
    {{ explode_integer_range(
        'series_lengths', '0', 'last_period_offset', 'period_offset'
    ) }}
),

series_spined as (
    select
        tenant_id,
        sku_id,
        period_offset + 1 as period_index,
        {{ add_periods('grain', 'first_period_start', 'period_offset') }}
            as period_start
    from series_offsets
),

series_zero_filled as (
    select
        series_spined.tenant_id,
        series_spined.sku_id,
        series_spined.period_start,
        series_spined.period_index,
        coalesce(sales_periods.units_sold, 0) as units_sold
    from series_spined
    left join sales_periods
        on
            series_spined.tenant_id = sales_periods.tenant_id
            and series_spined.sku_id = sales_periods.sku_id
            and series_spined.period_start = sales_periods.period_start
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        period_index,
        units_sold,
        -- How many periods up to this one sold anything: the position of
        -- this period's demand in z, the non-zero demands (Croston, TSB).
        sum(case when units_sold > 0 then 1 else 0 end) over (
            partition by tenant_id, sku_id
            order by period_index
            rows between unbounded preceding and current row
        ) as demand_count
    from series_zero_filled
)

select * from final
