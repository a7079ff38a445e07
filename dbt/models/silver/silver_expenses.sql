{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='expense_id',
        indexes=[
            {'columns': ['expense_id'], 'unique': True},
            {'columns': ['expense_date']},
            {'columns': ['agency', 'expense_date']},
            {'columns': ['ingest_id']},
        ],
    )
}}

-- Expenses that passed every rule, one row per expense_id (the first delivery;
-- macros/silver_models.sql).
{{ accepted_rows('silver_expense_classifications', [
    'expense_id',
    'agency',
    'employee_id',
    'vendor',
    'category',
    'currency',
    'description',
    'amount::numeric(14, 2) as amount',
    'expense_date',
]) }}
