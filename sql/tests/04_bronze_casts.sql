-- The bronze casts never fail: malformed input gives null, valid input its value.
begin;
create extension if not exists pgtap;

select plan(9);

select is(bronze.try_numeric('12.5'), 12.5, 'try_numeric: decimal');
select is(bronze.try_numeric(' -3 '), -3::numeric, 'try_numeric: sign and spaces');
select ok(bronze.try_numeric('ninety') is null and bronze.try_numeric('1e99999') is null and bronze.try_numeric('--1') is null,
  'try_numeric: words, overflowing exponents and double signs are null');
select is(bronze.try_date('2024-02-29'), date '2024-02-29', 'try_date: a leap day');
select ok(bronze.try_date('2025-02-29') is null and bronze.try_date('2025-04-31') is null
  and bronze.try_date('2025-13-01') is null and bronze.try_date('0000-01-01') is null,
  'try_date: days that do not exist are null');
select ok(bronze.try_date('not-a-date') is null and bronze.try_date('2025-1-01') is null and bronze.try_date(null) is null,
  'try_date: other text is null');
select is(bronze.try_timestamptz('2025-03-14T10:22:01.123+08:00'), timestamptz '2025-03-14 02:22:01.123+00',
  'try_timestamptz: fraction and offset');
select ok(bronze.try_timestamptz('2025-03-14T25:00:00Z') is null and bronze.try_timestamptz('2025-02-30T10:00:00Z') is null,
  'try_timestamptz: impossible times and days are null');
select ok(bronze.try_parse_jsonb('{"a": 1') is null and bronze.try_parse_jsonb('{"a": 1}') = '{"a": 1}'::jsonb,
  'try_parse_jsonb: malformed JSON is null, valid JSON parses');

select * from finish();
rollback;
