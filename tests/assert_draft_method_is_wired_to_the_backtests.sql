-- The draft is wired to the backtest scores, whatever the rule that ranks
-- them: the arithmetic (scores, ranks, the median, the interval) is checked
-- against the Python reference (tests/python/reference) and by the dbt unit
-- tests, not here. Each series' draft has one method and one member list;
-- a backtested series drafts top3_median, its members are exactly the
-- accuracy's member rows (ranks 1 to 3 of the methods scored for that very
-- series, ranks contiguous from 1) and its top3_median row is the one
-- selected; a series without scores drafts short_history_mean with no
-- members and no interval. Rows returned fail.
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
        min(members) as members,
        count(distinct method) as method_count,
        count(distinct coalesce(members, '')) as members_count,
        sum(case when lower_qty is null then 0 else 1 end) as interval_count
    from draft
    group by tenant_id, sku_id
),

scored_methods as (
    select
        tenant_id,
        sku_id,
        count(distinct method) as method_count
    from backtests
    group by tenant_id, sku_id
),

method_ranks as (
    select
        tenant_id,
        sku_id,
        count(*) as ranked_count,
        count(distinct method_rank) as distinct_ranks,
        min(method_rank) as min_rank,
        max(method_rank) as max_rank,
        sum(case when is_member then 1 else 0 end) as member_count,
        max(case when is_member then method_rank end) as max_member_rank,
        sum(case when is_selected then 1 else 0 end) as selected_count
    from accuracy
    where method != 'top3_median'
    group by tenant_id, sku_id
),

combined_rows as (
    select
        tenant_id,
        sku_id,
        count(*) as combined_count,
        sum(case when is_selected then 1 else 0 end) as selected_count
    from accuracy
    where method = 'top3_median'
    group by tenant_id, sku_id
),

accuracy_not_scored as (
    select
        accuracy.tenant_id,
        accuracy.sku_id,
        'an accuracy row names a method not scored for the series' as failure
    from accuracy
    left join backtests
        on
            accuracy.tenant_id = backtests.tenant_id
            and accuracy.sku_id = backtests.sku_id
            and accuracy.method = backtests.method
    where accuracy.method != 'top3_median' and backtests.method is null
),

draft_not_one_method as (
    select
        tenant_id,
        sku_id,
        'the draft has more than one method or member list' as failure
    from draft_methods
    where method_count != 1 or members_count != 1
),

backtested_not_combined as (
    select
        scored_methods.tenant_id,
        scored_methods.sku_id,
        'a backtested series does not draft top3_median with members' as failure
    from scored_methods
    left join draft_methods
        on
            scored_methods.tenant_id = draft_methods.tenant_id
            and scored_methods.sku_id = draft_methods.sku_id
    where
        draft_methods.method is null
        or draft_methods.method != 'top3_median'
        or draft_methods.members is null
),

unscored_not_on_fallback as (
    select
        draft_methods.tenant_id,
        draft_methods.sku_id,
        'a series without scores is not on short_history_mean alone' as failure
    from draft_methods
    left join scored_methods
        on
            draft_methods.tenant_id = scored_methods.tenant_id
            and draft_methods.sku_id = scored_methods.sku_id
    where
        scored_methods.sku_id is null
        and (
            draft_methods.method != 'short_history_mean'
            or draft_methods.members is not null
            or draft_methods.interval_count > 0
        )
),

ranks_not_contiguous as (
    select
        scored_methods.tenant_id,
        scored_methods.sku_id,
        'the scored methods are not ranked 1..n once each' as failure
    from scored_methods
    left join method_ranks
        on
            scored_methods.tenant_id = method_ranks.tenant_id
            and scored_methods.sku_id = method_ranks.sku_id
    where
        method_ranks.ranked_count is null
        or method_ranks.ranked_count != scored_methods.method_count
        or method_ranks.distinct_ranks != method_ranks.ranked_count
        or method_ranks.min_rank != 1
        or method_ranks.max_rank != method_ranks.ranked_count
),

members_not_the_best_three as (
    select
        tenant_id,
        sku_id,
        'the members are not the methods ranked 1 to 3' as failure
    from method_ranks
    where
        member_count != least(ranked_count, 3)
        or max_member_rank != member_count
        or selected_count != 0
),

members_not_in_the_draft as (
    select
        accuracy.tenant_id,
        accuracy.sku_id,
        'a member of the accuracy is missing from the draft''s members' as failure
    from accuracy
    inner join draft_methods
        on
            accuracy.tenant_id = draft_methods.tenant_id
            and accuracy.sku_id = draft_methods.sku_id
    where
        accuracy.is_member
        and ',' || draft_methods.members || ','
        not like '%,' || accuracy.method || ',%'
),

combination_not_selected as (
    select
        scored_methods.tenant_id,
        scored_methods.sku_id,
        'a backtested series has not one selected top3_median row' as failure
    from scored_methods
    left join combined_rows
        on
            scored_methods.tenant_id = combined_rows.tenant_id
            and scored_methods.sku_id = combined_rows.sku_id
    where
        coalesce(combined_rows.combined_count, 0) != 1
        or combined_rows.selected_count != 1
),

final as (
    select * from accuracy_not_scored
    union all
    select * from draft_not_one_method
    union all
    select * from backtested_not_combined
    union all
    select * from unscored_not_on_fallback
    union all
    select * from ranks_not_contiguous
    union all
    select * from members_not_the_best_three
    union all
    select * from members_not_in_the_draft
    union all
    select * from combination_not_selected
)

select * from final
