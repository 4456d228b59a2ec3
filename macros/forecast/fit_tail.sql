{#-
    The last observations of each fit: one row per row of `fits` (which
    has tenant_id, sku_id and fit_periods) and age 0 .. periods_read - 1,
    with every column of `fits`, the age and y_(fit_periods - age) as the
    double units_sold. A method model reads its fits through this, so a fit
    costs periods_read rows however long its history is.
-#}
{% macro fit_tail(fits, periods_read, series='series') -%}
    select
        fit_ages.*,
        cast({{ series }}.units_sold as {{ type_double() }}) as units_sold
    from (
        {{ explode_integer_range(fits, '0', periods_read ~ ' - 1', 'age') }}
    ) as fit_ages
    inner join {{ series }}
        on
            fit_ages.tenant_id = {{ series }}.tenant_id
            and fit_ages.sku_id = {{ series }}.sku_id
            and fit_ages.fit_periods - fit_ages.age = {{ series }}.period_index
{%- endmacro %}
