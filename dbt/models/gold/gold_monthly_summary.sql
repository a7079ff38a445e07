{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month', 'category'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['month', 'category'], 'unique': True}],
    )
}}

-- Monthly totals per category with month-over-month and year-over-year growth. Months
-- without sales are filled with zeros so lag() compares calendar neighbours, not just
-- neighbouring rows.
--
-- Incremental: silver transactions are only ever added (one valid row per id, never
-- changed), so a month's count, units and amount are what this table holds plus the sum
-- of the transactions past its watermark (max_ingest_id): numeric sums are exact. Only
-- the rows those transactions can change are rewritten: each (month, category) they
-- fall in, the next month (its MoM reads this month) and the same month a year later
-- (its YoY), and every row of a month or a category the grid did not have yet. The lag()
-- windows run over the whole grid (months x categories, a few hundred rows), so an
-- incremental row is computed by the very SQL of a full build.
{#- A table built before the watermark existed is rebuilt in full once (is_incremental()
    is true, the column is missing): adding every transaction again would count it twice. -#}
{%- set built = is_incremental()
    and 'max_ingest_id' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}

with

-- Every allowed category, sold yet or not: a category without sales is a row of zeros,
-- not a missing row.
categories as (

    select category from {{ ref('allowed_categories') }}

),

{% if built -%}
built as (

    select * from {{ this }}

),

new_transactions as (

    select * from {{ ref('silver_validated_transactions') }}
    where ingest_id > {{ watermark('max_ingest_id') }}

),

added as (

    select
        date_trunc('month', transaction_date)::date as month,
        category,
        count(*) as transaction_count,
        sum(quantity) as units_sold,
        sum(amount) as total_amount,
        max(ingest_id) as max_ingest_id

    from new_transactions
    group by 1, 2

),

monthly as (

    select
        coalesce(built.month, added.month) as month,
        coalesce(built.category, added.category) as category,
        coalesce(built.transaction_count, 0) + coalesce(added.transaction_count, 0) as transaction_count,
        coalesce(built.units_sold, 0) + coalesce(added.units_sold, 0) as units_sold,
        coalesce(built.total_amount, 0) + coalesce(added.total_amount, 0) as total_amount,
        greatest(built.max_ingest_id, added.max_ingest_id) as max_ingest_id

    from built
    full outer join added
        on added.month = built.month
        and added.category = built.category

),

{%- else -%}
transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

monthly as (

    select
        date_trunc('month', transaction_date)::date as month,
        category,
        count(*) as transaction_count,
        sum(quantity) as units_sold,
        sum(amount) as total_amount,
        max(ingest_id) as max_ingest_id

    from transactions
    group by 1, 2

),

{%- endif %}

month_spine as (

    select generate_series(min(month), max(month), interval '1 month')::date as month
    from monthly

),

filled as (

    select
        month_spine.month,
        categories.category,
        coalesce(monthly.transaction_count, 0) as transaction_count,
        coalesce(monthly.units_sold, 0) as units_sold,
        coalesce(monthly.total_amount, 0)::numeric(24, 2) as total_amount,
        monthly.max_ingest_id

    from month_spine
    cross join categories
    left join monthly
        on monthly.month = month_spine.month
        and monthly.category = categories.category

),

with_history as (

    select
        filled.*,
        lag(total_amount, 1) over by_month as prev_month_amount,
        lag(total_amount, 12) over by_month as prev_year_amount

    from filled
    window by_month as (partition by category order by month)

),

{% if built -%}
-- The rows the new transactions can change: their own, the next month's MoM and the
-- next year's YoY; a month or category new to the grid changes (or fills) every row it
-- is in, and the rows whose lag() reads it.
changed as (

    select month, category from added
    union
    select filled.month, filled.category
    from filled
    where not exists (select 1 from built where built.month = filled.month)
        or not exists (select 1 from built where built.category = filled.category)

),

affected as (

    select distinct
        (changed.month + step)::date as month,
        changed.category

    from changed
    cross join unnest(array[interval '0 months', interval '1 month', interval '12 months']) as step

),

{% endif -%}
final as (

    select
        month,
        category,
        transaction_count,
        units_sold,
        total_amount,
        case when transaction_count > 0 then round(total_amount / transaction_count, 2) end as avg_transaction_amount,
        prev_month_amount,
        round(100.0 * (total_amount - prev_month_amount) / nullif(prev_month_amount, 0), 2) as mom_growth_pct,
        prev_year_amount,
        round(100.0 * (total_amount - prev_year_amount) / nullif(prev_year_amount, 0), 2) as yoy_growth_pct,
        -- The newest silver transaction counted in this row (null for a row of zeros): the
        -- incremental watermark.
        max_ingest_id

    from with_history
    {% if built -%}
    where (month, category) in (select affected.month, affected.category from affected)
    {%- endif %}

)

select * from final
