{{ config(indexes=[{'columns': ['week_start', 'category'], 'unique': True}]) }}

-- Weekly sales per category with a 4-week moving average and anomaly flags. A week is
-- an anomaly when its amount lies more than 2 standard deviations from the mean of the
-- 12 weeks before it (at least 8 of them needed, so the first weeks are never flagged).
-- A flat baseline (standard deviation 0) flags a week that moves more than
-- 2 x var flat_baseline_tolerance_pct percent from it (any sale after a run of zero
-- weeks). The last week is not flagged while the data does not cover all of it (a
-- short week is not a drop in sales): is_complete_week says which weeks are whole.
with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

weekly as (

    select
        date_trunc('week', transaction_date)::date as week_start,
        category,
        count(*) as transaction_count,
        sum(amount) as weekly_amount

    from transactions
    group by 1, 2

),

week_spine as (

    select generate_series(min(week_start), max(week_start), interval '1 week')::date as week_start
    from weekly

),

last_day as (

    select max(transaction_date) as last_date from transactions

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
        coalesce(weekly.weekly_amount, 0)::numeric(24, 2) as weekly_amount

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
        ) as is_anomaly

    from with_windows
    cross join last_day

)

select * from final
