{{ config(materialized='incremental', incremental_strategy='append', indexes=classification_indexes('expense_id')) }}

-- Every bronze expense, classified exactly once (see silver_transaction_classifications;
-- the rules are listed in macros/bounds.sql, the shape in macros/silver_models.sql).
{{ classification_model(
    'bronze_expenses',
    'allowed_expense_categories',
    'expense_id',
    rules=[
        reason_if("payload is null", "MALFORMED_JSON"),
        reason_if("payload is not null and (" ~ is_missing('expense_id') ~ " or " ~ is_missing('agency')
            ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('amount') ~ " or " ~ is_missing('expense_date') ~ ")",
            "MISSING_FIELD"),
        reason_if(is_untyped('amount_raw', 'amount') ~ " or " ~ is_untyped('expense_date_raw', 'expense_date')
            ~ " or " ~ any_not_text(['expense_id', 'agency', 'employee_id', 'vendor', 'category', 'currency', 'description']),
            "INVALID_TYPE"),
        reason_if(any_blank(['delivered.expense_id', 'agency', 'delivered.category']), "BLANK_FIELD"),
        reason_if(any_control_characters(['delivered.expense_id', 'agency', 'employee_id', 'delivered.category', 'currency']), "INVALID_CHARACTERS"),
        reason_if("amount <= 0", "NON_POSITIVE_AMOUNT"),
        reason_if(out_of_range('amount', max_amount()), "AMOUNT_OUT_OF_RANGE"),
        reason_if(too_many_decimals('amount'), "TOO_MANY_DECIMALS"),
        reason_if("expense_date > " ~ as_of_date(), "FUTURE_DATE"),
        reason_if(too_old('expense_date'), "DATE_OUT_OF_RANGE"),
        reason_if("delivered.category is not null and delivered.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
        reason_if(any_oversized(['delivered.expense_id', 'agency', 'employee_id', 'vendor', 'delivered.category', 'currency', 'description']), "OVERSIZED_FIELD"),
    ],
    columns=[
        'btrim(agency) as agency',
        normalized_id('employee_id') ~ ' as employee_id',
        'vendor',
        'category',
        "coalesce(currency, 'USD') as currency",
        'description',
        'amount',
        'expense_date',
    ],
) }}
