"""epidispatch: 疫情防控与疫苗接种调度平台."""
