{#-
    Every (tenant_id, column) of the model exists as (tenant_id, field) in
    `to`: keys are only unique within a tenant, so a plain relationships
    test would let one tenant's fact point at another tenant's dimension.
-#}
{% test relationships_within_tenant(model, column_name, to, field) %}

with

child as (
    select tenant_id, {{ column_name }} as key_value
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select tenant_id, {{ field }} as key_value
    from {{ to }}
)

select child.*
from child
left join parent
    on
        child.tenant_id = parent.tenant_id
        and child.key_value = parent.key_value
where parent.key_value is null

{% endtest %}
