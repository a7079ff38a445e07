{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['week_start', 'category'],
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['week_start', 'category'], 'unique': True}],
    )
}}

-- Weekly sales per category with a 4-week moving average and anomaly flags. A week is
-- an anomaly when its amount lies more than 2 standard deviations from the mean of the
-- 12 weeks before it (at least 8 of them needed, so the first weeks are never flagged).
-- A flat baseline (standard deviation 0) flags a week that moves more than
-- 2 x var flat_baseline_tolerance_pct percent from it (any sale after a run of zero
-- weeks). The last week is not flagged while the data does not cover all of it (a
-- short week is not a drop in sales): is_complete_week says which weeks are whole.
--
-- Incremental (as gold_monthly_summary): a week's count and amount are what this table
-- holds plus the transactions past its watermark (max_ingest_id). Rewritten are the
-- rows those transactions can change: each (week, category) they fall in and the 12
-- weeks after it (the 4-week average reads 3 weeks back, the baseline 12), every row of
-- a week or category new to the grid and the 12 weeks after, and the weeks not yet
-- complete when any transaction is new (the newest transaction date decides
-- is_complete_week and the flag). The
-- windows run over the whole grid (weeks x categories), as in a full build.
{#- A table built before the watermark existed is rebuilt in full once. -#}
{%- set built = is_incremental()
    and 'max_ingest_id' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}

with

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
        date_trunc('week', transaction_date)::date as week_start,
        category,
        count(*) as transaction_count,
        sum(amount) as weekly_amount,
        max(ingest_id) as max_ingest_id

    from new_transactions
    group by 1, 2

),

weekly as (

    select
        coalesce(built.week_start, added.week_start) as week_start,
        coalesce(built.category, added.category) as category,
        coalesce(built.transaction_count, 0) + coalesce(added.transaction_count, 0) as transaction_count,
        coalesce(built.weekly_amount, 0) + coalesce(added.weekly_amount, 0) as weekly_amount,
        greatest(built.max_ingest_id, added.max_ingest_id) as max_ingest_id

    from built
    full outer join added
        on added.week_start = built.week_start
        and added.category = built.category

),

{%- else -%}
transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

weekly as (

    select
        date_trunc('week', transaction_date)::date as week_start,
        category,
        count(*) as transaction_count,
        sum(amount) as weekly_amount,
        max(ingest_id) as max_ingest_id

    from transactions
    group by 1, 2

),

{%- endif %}

week_spine as (

    select generate_series(min(week_start), max(week_start), interval '1 week')::date as week_start
    from weekly

),

last_day as (

    -- The index on transaction_date answers this without reading the history.
    select max(transaction_date) as last_date from {{ ref('silver_validated_transactions') }}

),

-- Every allowed category, sold yet or not: a category without sales is a row of zeros,
-- not a missing row.
categories as (

    select category from {{ ref('allowed_categories') }}

),

filled as (

    select
        week_spine.week_start,
        categories.category,
        coalesce(weekly.transaction_count, 0) as transaction_count,
        coalesce(weekly.weekly_amount, 0)::numeric(24, 2) as weekly_amount,
        weekly.max_ingest_id

    from week_spine
    cross join categories
    left join weekly
        on weekly.week_start = week_spine.week_start
        and weekly.category = categories.category

),

with_windows as (

    select
        filled.*,
        avg(weekly_amount) over (
            partition by category order by week_start rows between 3 preceding and current row
        ) as moving_avg_4w,
        count(*) over baseline as baseline_weeks,
        avg(weekly_amount) over baseline as baseline_mean,
        stddev_samp(weekly_amount) over baseline as baseline_stddev

    from filled
    window baseline as (partition by category order by week_start rows between 12 preceding and 1 preceding)

),

{% if built -%}
-- The rows the new transactions can change (see the header).
changed as (

    select week_start, category from added
    union
    select filled.week_start, filled.category
    from filled
    where not exists (select 1 from built where built.week_start = filled.week_start)
        or not exists (select 1 from built where built.category = filled.category)

),

affected as (

    select distinct
        changed.week_start + 7 * step as week_start,
        changed.category

    from changed
    cross join generate_series(0, 12) as step

    union

    -- A new transaction may move the last date, and with it is_complete_week.
    select week_start, category from built
    where not is_complete_week and exists (select 1 from added)

),

{% endif -%}
final as (

    select
        week_start,
        category,
        transaction_count,
        weekly_amount,
        round(moving_avg_4w, 2) as moving_avg_4w,
        round(baseline_mean, 2) as baseline_mean_12w,
        round(baseline_stddev, 2) as baseline_stddev_12w,
        round((weekly_amount - baseline_mean) / nullif(baseline_stddev, 0), 3) as z_score,
        week_start + 6 <= last_day.last_date as is_complete_week,
        coalesce(
            baseline_weeks >= 8
            and week_start + 6 <= last_day.last_date
            and case
                when baseline_stddev > 0 then abs(weekly_amount - baseline_mean) > 2 * baseline_stddev
                else abs(weekly_amount - baseline_mean)
                    > 2 * abs(baseline_mean) * {{ var('flat_baseline_tolerance_pct') }} / 100.0
            end,
            false
        ) as is_anomaly,
        -- The newest silver transaction counted in this row (null for a row of zeros): the
        -- incremental watermark.
        max_ingest_id

    from with_windows
    cross join last_day
    {% if built -%}
    where (week_start, category) in (select affected.week_start, affected.category from affected)
    {%- endif %}

)

select * from final
