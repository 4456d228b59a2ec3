-- Each backtested series selects exactly one method: the lowest WAPE (the
-- lowest MAE when WAPE is null), ties (within the selection tolerance) to
-- the first in the fixed method order; and the draft uses it. Rows
-- returned fail.
{%- set tolerance = var('selection_tie_tolerance') %}

with

accuracy as (
    select * from {{ ref('fct_forecast_accuracy') }}
),

forecast_methods as (
    select * from {{ ref('forecast_methods') }}
),

draft_methods as (
    select distinct
        tenant_id,
        sku_id,
        method
    from {{ ref('fct_forecast_draft') }}
),

scored as (
    select
        accuracy.*,
        forecast_methods.method_order,
        min(accuracy.wape) over (
            partition by accuracy.tenant_id, accuracy.sku_id
        ) as best_wape,
        min(accuracy.mae) over (
            partition by accuracy.tenant_id, accuracy.sku_id
        ) as best_mae
    from accuracy
    inner join forecast_methods
        on accuracy.method = forecast_methods.method
),

scored_with_best_flag as (
    select
        *,
        case
            when best_wape is not null
                then
                    wape
                    <= best_wape + {{ tolerance }} * greatest(1, best_wape)
            else mae <= best_mae + {{ tolerance }} * greatest(1, best_mae)
        end as is_best
    from scored
),

series as (
    select
        tenant_id,
        sku_id,
        sum(case when is_selected then 1 else 0 end) as selected_count,
        min(case when is_best then method_order end) as expected_order,
        max(case when is_selected then method_order end) as selected_order,
        max(case when is_selected then method end) as selected_method
    from scored_with_best_flag
    group by tenant_id, sku_id
)

select series.*
from series
left join draft_methods
    on
        series.tenant_id = draft_methods.tenant_id
        and series.sku_id = draft_methods.sku_id
where
    series.selected_count != 1
    or series.selected_order != series.expected_order
    or draft_methods.method is null
    or draft_methods.method != series.selected_method
