{#-
    The last observations of each fit: one row per row of `fits` (which
    has tenant_id, sku_id, fit_periods and the column periods_read) and
    age 0 .. periods_read - 1,
    with every column of `fits`, the age and y_(fit_periods - age) as the
    double units_sold. A method model reads its fits through this, so a fit
    costs periods_read rows however long its history is.

    A join on the series with the periods as a range, not an exploded list
    of ages joined on the period: the fits (a few per series) are then the
    side a hash join holds, and the series streams past them, so the join's
    memory grows with the number of series, not with their rows.
-#}
{% macro fit_tail(fits, periods_read, series='series') -%}
    select
        {{ fits }}.*,
        cast({{ fits }}.fit_periods - {{ series }}.period_index as bigint)
            as age,
        cast({{ series }}.units_sold as {{ type_double() }}) as units_sold
    from {{ fits }}
    inner join {{ series }}
        on
            {{ fits }}.tenant_id = {{ series }}.tenant_id
            and {{ fits }}.sku_id = {{ series }}.sku_id
            and {{ fits }}.fit_periods >= {{ series }}.period_index
            and {{ fits }}.fit_periods - {{ fits }}.{{ periods_read }}
            < {{ series }}.period_index
{%- endmacro %}
