{# The registry serves one model: more than one champion row is an error. #}
select count(*) as champions
from {{ source('ml', 'model_runs') }}
where status = 'champion'
having count(*) > 1
