-- The draft's method is wired to the backtest scores, whatever the rule
-- that chooses it: the rule's arithmetic is checked against the Python
-- reference (tests/python/reference) and by the dbt unit tests, not here.
-- Each series' draft has one method; a series that was backtested drafts
-- with a method scored for that very series, marked as its one selected
-- method in the accuracy, which holds exactly the scored methods, all
-- scored on the same holdout; a series without scores drafts with
-- short_history_mean. Rows returned fail.
with

backtests as (
    select * from {{ ref('int_backtests_scored') }}
),

accuracy as (
    select * from {{ ref('fct_forecast_accuracy') }}
),

draft as (
    select * from {{ ref('fct_forecast_draft') }}
),

draft_methods as (
    select
        tenant_id,
        sku_id,
        min(method) as method,
        count(distinct method) as method_count
    from draft
    group by tenant_id, sku_id
),

backtested_series as (
    select
        tenant_id,
        sku_id,
        min(holdout_periods) as min_holdout_periods,
        max(holdout_periods) as max_holdout_periods
    from backtests
    group by tenant_id, sku_id
),

selected_methods as (
    select
        tenant_id,
        sku_id,
        min(method) as method,
        count(*) as selected_count
    from accuracy
    where is_selected
    group by tenant_id, sku_id
),

mixed_draft_methods as (
    select
        tenant_id,
        sku_id,
        'the draft has more than one method' as failure
    from draft_methods
    where method_count != 1
),

draft_methods_not_scored as (
    select
        draft_methods.tenant_id,
        draft_methods.sku_id,
        'the draft method was not scored for the series' as failure
    from draft_methods
    inner join backtested_series
        on
            draft_methods.tenant_id = backtested_series.tenant_id
            and draft_methods.sku_id = backtested_series.sku_id
    left join backtests
        on
            draft_methods.tenant_id = backtests.tenant_id
            and draft_methods.sku_id = backtests.sku_id
            and draft_methods.method = backtests.method
    where backtests.method is null
),

unscored_series_not_on_fallback as (
    select
        draft_methods.tenant_id,
        draft_methods.sku_id,
        'a series without scores is not on short_history_mean' as failure
    from draft_methods
    left join backtested_series
        on
            draft_methods.tenant_id = backtested_series.tenant_id
            and draft_methods.sku_id = backtested_series.sku_id
    where
        backtested_series.sku_id is null
        and draft_methods.method != 'short_history_mean'
),

series_without_one_selection as (
    select
        backtested_series.tenant_id,
        backtested_series.sku_id,
        'a backtested series has not exactly one selected method' as failure
    from backtested_series
    left join selected_methods
        on
            backtested_series.tenant_id = selected_methods.tenant_id
            and backtested_series.sku_id = selected_methods.sku_id
    where coalesce(selected_methods.selected_count, 0) != 1
),

selections_not_drafted as (
    select
        selected_methods.tenant_id,
        selected_methods.sku_id,
        'the draft does not use the selected method' as failure
    from selected_methods
    left join draft_methods
        on
            selected_methods.tenant_id = draft_methods.tenant_id
            and selected_methods.sku_id = draft_methods.sku_id
    where
        draft_methods.method is null
        or draft_methods.method != selected_methods.method
),

accuracy_not_the_scores as (
    select
        coalesce(accuracy.tenant_id, backtests.tenant_id) as tenant_id,
        coalesce(accuracy.sku_id, backtests.sku_id) as sku_id,
        'the accuracy does not hold exactly the scored methods' as failure
    from accuracy
    full outer join backtests
        on
            accuracy.tenant_id = backtests.tenant_id
            and accuracy.sku_id = backtests.sku_id
            and accuracy.method = backtests.method
    where accuracy.method is null or backtests.method is null
),

unequal_holdouts as (
    select
        tenant_id,
        sku_id,
        'the methods of a series are scored on different holdouts' as failure
    from backtested_series
    where min_holdout_periods != max_holdout_periods
)

select * from mixed_draft_methods
union all
select * from draft_methods_not_scored
union all
select * from unscored_series_not_on_fallback
union all
select * from series_without_one_selection
union all
select * from selections_not_drafted
union all
select * from accuracy_not_the_scores
union all
select * from unequal_holdouts
