{#- Fails for each row where `<column> <expression>` is not true. -#}
{% test expression_is_true(model, expression, column_name=none, where=none) %}

select *
from {{ model }}
where not (
    {%- if column_name is not none %}{{ column_name }} {% endif -%}
    {{ expression }}
)

{% endtest %}
