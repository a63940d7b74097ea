{#
    Privacy rules of issue 8, applied where marts are built. Raw, staging,
    intermediate and snapshots keep the originals and are not published.
#}

{#-
    Keyed hash (sha256 of key || ':' || value) as 64 hex characters: stable
    across runs so analysts can join, not reversible without the key even
    though case numbers are guessable. The key is read from the restricted
    table by a scalar subquery, so no SQL text, artefact or log holds it.
-#}
{% macro pseudonymise(expression) -%}
    {%- set key = '(select pseudonym_key from '
        ~ source('restricted', 'pseudonym_key') ~ ')' -%}
    case
        when {{ expression }} is not null
            then {{ sha256_hex(dbt.concat([key, "':'", expression])) }}
    end
{%- endmacro %}


{#-
    Street address -> hundred block: '2712 Bailey Ave Apt 3' and
    '2700 Block BAILEY AVE' both become '2700 BLOCK BAILEY AVE'; a block the
    city already masked ('036XX N KEDZIE AVE', Chicago) becomes the same
    form ('3600 BLOCK N KEDZIE AVE'). Intersections ('MAIN ST & UTICA ST',
    San Francisco's 'BOSWORTH ST \ DIAMOND ST') name an exact corner and have
    no house number to generalise, so they become null (the grid cell still
    locates the incident). A bare street name is already generalised and is
    kept.
-#}
{% macro generalise_address(expression) -%}
    {%- set address = "upper(trim(" ~ expression ~ "))" -%}
    {#- Masked digits (X) count as zeros: 036XX -> 03600. -#}
    {%- set house_number = "replace(" ~ regex_extract(address, '^([0-9]+X*) ')
        ~ ", 'X', '0')" -%}
    {#- Jinja turns \\\\ into \\: a backslash escaped for the regex (SF's ' \ '). #}
    case
        when {{ expression }} is null or trim({{ expression }}) = '' then null
        when {{ regex_contains(address, '( & | / | \\\\ | AND | AT |@)') }} then null
        when {{ house_number }} is not null
            then concat(
                cast(
                    cast(
                        floor({{ dbt.safe_cast(house_number, dbt.type_bigint()) }} / 100)
                        * 100 as {{ dbt.type_bigint() }}
                    ) as {{ dbt.type_string() }}
                ),
                ' BLOCK ',
                trim({{ regex_remove(
                    regex_remove(address, '^[0-9]+X* +(BLOCK +)?(OF +)?'),
                    ' *(#| (APT|UNIT|STE|SUITE|FL|RM)[.]?( |[0-9])).*$'
                ) }})
            )
        else {{ address }}
    end
{%- endmacro %}


{#- Snaps a coordinate to the grid (3 decimals: ~111 m of latitude here). -#}
{% macro snap_coordinate(expression) -%}
    round({{ expression }}, {{ var('coordinate_grid_decimals', 3) }})
{%- endmacro %}


{#-
    Label of the row that carries, per area and period, the sum of the
    small-cell-suppressed cells of a type breakdown.
-#}
{% macro suppressed_remainder_label() -%}
    {{ return('other (suppressed)') }}
{%- endmacro %}
