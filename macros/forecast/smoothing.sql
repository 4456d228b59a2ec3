{#-
    Simple exponential smoothing in closed form.

    SES_a(x_1..x_n) with l_1 = x_1 and l_i = a * x_i + (1 - a) * l_(i-1)
    unrolls to

        l_n = (1 - a)^(n-1) * x_1 + sum over i = 2..n of a * (1 - a)^(n-i) * x_i

    a weighted sum whose weights add up to 1. Call g = n - i the age of x_i
    (0 for x_n). The weight of age g is a * (1 - a)^g, and (1 - a)^(n-1)
    for x_1 (ses_weight below).

    The one place terms are left out: a fit keeps only the ses_term_count(a)
    most recent terms, ages 0 .. M - 1 with M the smallest whole number
    such that (1 - a)^M < 1e-12. The weights of every older term add up to
    exactly (1 - a)^M, so what is left out weighs less than 1e-12 of the
    level (the spec's rule): M = 78 for a = 0.3, 263 for a = 0.1. A fit
    therefore reads at most M periods (or M non-zero demands) before its
    end, however long the history: int_forecast_fits_planned carries the
    term counts, and the method models read only those periods.
-#}

{#- M for the smoothing weight alpha (a column or literal in (0, 1]). -#}
{% macro ses_term_count(alpha) -%}
    case
        when {{ alpha }} >= 1 then 1
        else
            cast(
                floor(ln(1e-12) / ln(1 - {{ alpha }})) + 1 as integer
            )
    end
{%- endmacro %}


{#-
    The weight of the term of the given age in SES over a sequence of
    sequence_length values: the oldest (age sequence_length - 1) keeps
    (1 - a)^age, every other a * (1 - a)^age.
-#}
{% macro ses_weight(alpha, age, sequence_length) -%}
    case
        when {{ age }} = {{ sequence_length }} - 1
            then {{ power('1 - ' ~ alpha, age) }}
        else {{ alpha }} * {{ power('1 - ' ~ alpha, age) }}
    end
{%- endmacro %}


{#-
    The key methods are ranked by: the score rounded to 9 decimal places,
    as a whole number (score * 1e9 rounded half away from zero), so that
    two scores equal but for floating-point noise tie and the method order
    decides. The reference implementation computes the same key.
-#}
{% macro ranking_score_key(score) -%}
    round({{ score }} * 1000000000)
{%- endmacro %}
