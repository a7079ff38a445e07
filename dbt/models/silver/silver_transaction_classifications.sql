{{ config(materialized='incremental', incremental_strategy='append', indexes=classification_indexes('transaction_id')) }}

-- Every bronze transaction, classified exactly once: valid, quarantined (with one
-- reason code per broken rule) or duplicate. Append-only by ingest_id: a row's verdict
-- never changes, so each run reads only the new deliveries. The rules are listed in
-- macros/bounds.sql, the shape in macros/silver_models.sql; ids are stored normalised
-- (trimmed, upper case).
{{ classification_model(
    'bronze_transactions',
    'allowed_categories',
    'transaction_id',
    rules=[
        reason_if("payload is null", "MALFORMED_JSON"),
        reason_if("payload is not null and (" ~ is_missing('transaction_id') ~ " or " ~ is_missing('store_id')
            ~ " or " ~ is_missing('product_id') ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('amount')
            ~ " or " ~ is_missing('transaction_date') ~ ")", "MISSING_FIELD"),
        reason_if(is_untyped('amount_raw', 'amount') ~ " or " ~ is_untyped('quantity_raw', 'quantity')
            ~ " or " ~ is_untyped('unit_price_raw', 'unit_price')
            ~ " or " ~ is_untyped('transaction_date_raw', 'transaction_date')
            ~ " or " ~ is_untyped('transaction_ts_raw', 'transaction_at')
            ~ " or " ~ any_not_text(['transaction_id', 'store_id', 'product_id', 'category', 'payment_method', 'customer_id', 'transaction_ts']),
            "INVALID_TYPE"),
        reason_if(any_blank(['delivered.transaction_id', 'store_id', 'product_id', 'delivered.category']), "BLANK_FIELD"),
        reason_if(any_control_characters(['delivered.transaction_id', 'store_id', 'product_id', 'delivered.category', 'payment_method', 'customer_id']), "INVALID_CHARACTERS"),
        reason_if("amount <= 0 or unit_price <= 0", "NON_POSITIVE_AMOUNT"),
        reason_if(out_of_range('amount', max_amount()) ~ " or " ~ out_of_range('unit_price', max_price()), "AMOUNT_OUT_OF_RANGE"),
        reason_if(too_many_decimals('amount') ~ " or " ~ too_many_decimals('unit_price'), "TOO_MANY_DECIMALS"),
        reason_if("quantity <> trunc(quantity)", "NON_INTEGER_QUANTITY"),
        reason_if("quantity < 1 or quantity > " ~ var('max_quantity'), "QUANTITY_OUT_OF_RANGE"),
        reason_if("transaction_date > " ~ as_of_date(), "FUTURE_DATE"),
        reason_if(too_old('transaction_date'), "DATE_OUT_OF_RANGE"),
        reason_if("transaction_at is not null and transaction_date is not null and left(transaction_ts_raw, 10) <> transaction_date_raw",
            "TIMESTAMP_DATE_MISMATCH"),
        reason_if("delivered.category is not null and delivered.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
        reason_if(any_oversized(['delivered.transaction_id', 'store_id', 'product_id', 'delivered.category', 'payment_method', 'customer_id']), "OVERSIZED_FIELD"),
    ],
    columns=[
        normalized_id('store_id') ~ ' as store_id',
        normalized_id('product_id') ~ ' as product_id',
        'category',
        'payment_method',
        normalized_id('customer_id') ~ ' as customer_id',
        'quantity',
        'unit_price',
        'amount',
        'transaction_date',
        'transaction_at',
    ],
) }}
