{{ config(indexes=[{'columns': ['month', 'category'], 'unique': True}]) }}

-- Monthly sales trend per category: 3-month moving average and its direction compared
-- with the previous month's average (up / down when it moved more than 5 %).
with

monthly as (

    select * from {{ ref('gold_monthly_summary') }}

),

with_average as (

    select
        monthly.month,
        monthly.category,
        monthly.total_amount,
        monthly.mom_growth_pct,
        monthly.yoy_growth_pct,
        round(avg(total_amount) over three_months, 2) as moving_avg_3m

    from monthly
    window three_months as (partition by category order by month rows between 2 preceding and current row)

),

final as (

    select
        with_average.*,
        lag(moving_avg_3m) over (partition by category order by month) as prev_moving_avg_3m,
        case
            when lag(moving_avg_3m) over (partition by category order by month) is null then 'insufficient_history'
            when moving_avg_3m > 1.05 * lag(moving_avg_3m) over (partition by category order by month) then 'up'
            when moving_avg_3m < 0.95 * lag(moving_avg_3m) over (partition by category order by month) then 'down'
            else 'flat'
        end as trend

    from with_average

)

select * from final
