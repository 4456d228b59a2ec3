with

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

-- From the first sale of any tenant to the end of the last forecast period.
calendar_bounds as (
    select
        min(first_sale_date) as first_date,
        {{ days_between(
            'min(first_sale_date)',
            'max(' ~ period_end('grain', 'last_forecast_date') ~ ')',
        ) }} as last_day_offset
    from tenants
),

calendar_days as (
    {{ explode_integer_range(
        'calendar_bounds', '0', 'last_day_offset', 'day_offset'
    ) }}
),

calendar_dates as (
    select {{ add_days('first_date', 'day_offset') }} as calendar_date
    from calendar_days
),

final as (
    select
        calendar_date,
        {{ week_start('calendar_date') }} as week_start_date,
        {{ month_start('calendar_date') }} as month_start_date,
        cast({{ iso_date_part('isoyear', 'calendar_date') }} as integer)
            as iso_year,
        cast({{ iso_date_part('week', 'calendar_date') }} as integer)
            as iso_week,
        cast({{ iso_date_part('isodow', 'calendar_date') }} as integer)
            as iso_day_of_week,
        cast(extract(year from calendar_date) as integer) as calendar_year,
        cast(extract(month from calendar_date) as integer) as calendar_month,
        cast(extract(day from calendar_date) as integer) as day_of_month
    from calendar_dates
)

select * from final
