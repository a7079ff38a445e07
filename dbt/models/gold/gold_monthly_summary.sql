{{ config(indexes=[{'columns': ['month', 'category'], 'unique': True}]) }}

-- Monthly totals per category with month-over-month and year-over-year growth. Months
-- without sales are filled with zeros so lag() compares calendar neighbours, not just
-- neighbouring rows.
with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

monthly as (

    select
        date_trunc('month', transaction_date)::date as month,
        category,
        count(*) as transaction_count,
        sum(quantity) as units_sold,
        sum(amount) as total_amount

    from transactions
    group by 1, 2

),

month_spine as (

    select generate_series(min(month), max(month), interval '1 month')::date as month
    from monthly

),

-- Every allowed category, sold yet or not: a category without sales is a row of zeros,
-- not a missing row.
categories as (

    select category from {{ ref('allowed_categories') }}

),

filled as (

    select
        month_spine.month,
        categories.category,
        coalesce(monthly.transaction_count, 0) as transaction_count,
        coalesce(monthly.units_sold, 0) as units_sold,
        coalesce(monthly.total_amount, 0)::numeric(24, 2) as total_amount

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
        round(100.0 * (total_amount - prev_year_amount) / nullif(prev_year_amount, 0), 2) as yoy_growth_pct

    from with_history

)

select * from final
